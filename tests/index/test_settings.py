"""``index.settings``: one frozen Settings from the flags, the environment and the defaults,
passed whole and recorded in the manifest."""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
from pathlib import Path

import pytest

from index import IndexStore
from index.builder import IndexBuilder
from index.settings import RecordedSettings, Settings
from ingest import BUNDLED_CORPUS
from ingest.chunker import Chunking

REPO = Path(__file__).resolve().parents[2]


def test_the_environment_fills_what_the_flags_do_not_say(tmp_path):
    environ = {"DOCQA_ALLOW_DOWNLOAD": "yes", "XDG_CACHE_HOME": str(tmp_path), "DOCQA_EMBED_THREADS": "3",
               "DOCQA_API_KEY": "k", "QDRANT_API_KEY": "q"}
    settings = Settings.from_environment(environ)
    assert (settings.allow_download, settings.cache_dir, settings.default_index) == (
        True, tmp_path / "docqa", tmp_path / "docqa" / "default-index")
    assert (settings.embed_threads, settings.api_key, settings.qdrant_api_key) == (3, "k", "q")
    assert settings.model_cache == tmp_path / "docqa" / "models"
    assert "'k'" not in repr(settings) and "'q'" not in repr(settings), "keys are not printed"
    assert Settings.from_environment({"DOCQA_INDEX": str(tmp_path / "mine")}).default_index == tmp_path / "mine"
    assert not Settings.from_environment({}).allow_download


def test_flags_win_over_the_environment_and_bad_chunking_is_refused_on_construction():
    args = argparse.Namespace(model="m", backend="torch-fp32", allow_download=True, max_tokens=120, overlap=2,
                              index_type="flat")
    settings = Settings.from_args(args, {})
    assert (settings.model, settings.backend, settings.allow_download, settings.index_type) == ("m", "torch-fp32", True, "flat")
    assert settings.chunking == Chunking(120, 2)
    with pytest.raises(ValueError, match="max_tokens must be from 8 to 512"):
        Settings.from_args(argparse.Namespace(max_tokens=4, overlap=1), {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.model = "other"


def test_a_build_records_its_settings_and_typed_embedding_in_the_manifest(tmp_path, embedder):
    settings = Settings(chunking=Chunking(max_tokens=150), index_type="flat", cache_dir=tmp_path / "cache")
    IndexBuilder(tmp_path / "index", settings, progress=False, embedder=embedder)([BUNDLED_CORPUS])
    store = IndexStore.open(tmp_path / "index")
    try:
        written = json.loads((store.version / "manifest.json").read_text())
        assert written["settings"] == {"model": "all-MiniLM-L6-v2", "backend": "auto", "chunking": {
            "max_tokens": 150, "overlap_sentences": 1, "splitter": "sentences-v1"}, "max_bytes": settings.max_bytes,
            "index_type": "flat"}
        assert "allow_download" not in json.dumps(written) and str(tmp_path / "cache") not in json.dumps(written)
        assert store.manifest.settings == RecordedSettings.from_dict(written["settings"])
        assert store.manifest.chunking == Chunking(150, 1)
        assert store.manifest.embedding.vectors_by_backend == {embedder.backend: store.count_passages()}
    finally:
        store.close()


def test_no_module_but_settings_reads_the_environment_for_configuration():
    reading = re.compile(r"environ\.get\(|environ\[|getenv\(")
    readers = sorted(str(path.relative_to(REPO)) for stage in ("ingest", "index", "qa", "eval")
                     for path in (REPO / stage).rglob("*.py") if reading.search(path.read_text()))
    assert readers == [
        "index/backends/cpu.py",    # $DOCQA_CPU_FLAGS, a test's override of the CPU read once per process
        "index/settings.py",
        "ingest/formats/pdf.py",    # hands its own environment to the PDF worker process
    ]
