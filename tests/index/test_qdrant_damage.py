"""A damaged or busy Qdrant local store (issue #21, item 14): every case is one clear line, never a
traceback or a silent empty answer, and a reader keeps reading while a build holds the store."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("qdrant_client", reason="the scale extra: pip install -e '.[scale]'")

from index.store import IndexCorrupt  # noqa: E402
from index.builder import make_builder  # noqa: E402
from index.stores import open_store  # noqa: E402
from ingest import BUNDLED_CORPUS  # noqa: E402
from qa.api import QA  # noqa: E402
from support import REPO  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def built_store(tmp_path_factory, embedder) -> Path:
    folder = tmp_path_factory.mktemp("qdrant-damage") / "store"
    with make_builder(f"qdrant+local:{folder}", progress=False, embedder=embedder) as builder:
        assert builder([BUNDLED_CORPUS]).passages == 24
    return folder


@pytest.fixture
def store_copy(built_store, tmp_path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(built_store, target)
    return target


def _stats(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", "stats", "--index", f"qdrant+local:{folder}"], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def _passages_file(folder: Path) -> Path:
    return folder / "collection" / "docqa" / "storage.sqlite"


def test_an_emptied_storage_is_refused_on_open_and_on_build(store_copy, embedder):
    with sqlite3.connect(_passages_file(store_copy)) as db:
        db.execute("DELETE FROM points")
    with pytest.raises(IndexCorrupt, match="holds 0 passages but its documents record 24.*--rebuild"):
        open_store(f"qdrant+local:{store_copy}")
    with pytest.raises(IndexCorrupt, match="damaged"):   # a build would otherwise find "nothing changed"
        make_builder(f"qdrant+local:{store_copy}", progress=False, embedder=embedder)
    with make_builder(f"qdrant+local:{store_copy}", progress=False, embedder=embedder, rebuild=True) as builder:
        assert builder([BUNDLED_CORPUS]).passages == 24   # --rebuild, as the message says, mends it
    with open_store(f"qdrant+local:{store_copy}") as store:
        assert store.count_passages() == 24


@pytest.mark.parametrize("damage, named", [("random bytes", "storage.sqlite is damaged"),
                                           ("bad meta.json", "meta.json is not valid JSON"),
                                           ("foreign meta.json", "meta.json is not a Qdrant local store's")])
def test_unreadable_storage_is_one_line_naming_the_file(store_copy, damage, named):
    if damage == "random bytes":
        _passages_file(store_copy).write_bytes(os.urandom(20000))
    else:
        (store_copy / "meta.json").write_text('{"collections": ' if damage == "bad meta.json" else '{"mine": 1}')
    result = _stats(store_copy)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert str(store_copy) in lines[0] and named in lines[0] and "--rebuild" in lines[0]


def test_a_reader_keeps_reading_while_a_build_holds_the_store(store_copy, embedder):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from qdrant_client import QdrantClient
        client = QdrantClient(path={str(store_copy)!r})   # holds the folder's lock, as a running build does
        print("holding", flush=True)
        sys.stdin.readline()
        """)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        qa = QA(open_store(f"qdrant+local:{store_copy}"), embedder)
        try:
            assert qa.store.count_documents() == 5 and qa.store.count_passages() == 24
            assert qa.ask("When was SenseTime founded?").short == "October 2014"
        finally:
            qa.close()
    finally:
        holder.communicate("\n", timeout=60)
    leftovers = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("docqa-qdrant-snapshot-*")
                 if p.stat().st_mtime > store_copy.stat().st_mtime]
    assert leftovers == []
