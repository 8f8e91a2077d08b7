"""Fixtures of the index stage's tests: a Qdrant local store over the bundled corpus, built once."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.builder import make_builder
from ingest import BUNDLED_CORPUS


@pytest.fixture(scope="session")
def built_qdrant_store(tmp_path_factory, embedder) -> Path:
    """The folder of a Qdrant local store of the bundled corpus; tests that change it copy it first."""
    pytest.importorskip("qdrant_client", reason="the scale extra: pip install -e '.[scale]'")
    folder = tmp_path_factory.mktemp("qdrant-store") / "store"
    with make_builder(f"qdrant+local:{folder}", progress=False, embedder=embedder) as builder:
        assert builder([BUNDLED_CORPUS]).passages == 24
    return folder


@pytest.fixture
def qdrant_store_copy(built_qdrant_store, tmp_path) -> Path:
    return Path(shutil.copytree(built_qdrant_store, tmp_path / "store"))
