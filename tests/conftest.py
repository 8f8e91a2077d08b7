"""Shared fixtures: the real model, a real index over the bundled SenseTime corpus, and the bench
corpora parsed once for every test that reads them."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.builder import IndexBuilder
from index.embedder import Embedder
from ingest import BUNDLED_CORPUS, DocumentLoader
from support import bench_path

@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, embedder) -> Path:
    """An index over the bundled corpus, built once; tests that modify an index copy it first."""
    index_dir = tmp_path_factory.mktemp("seed-index")
    IndexBuilder(index_dir, progress=False, embedder=embedder)([BUNDLED_CORPUS])
    return index_dir


@pytest.fixture
def seed_corpus_copy(tmp_path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, target)
    return target


@pytest.fixture
def seed_index_copy(tmp_path, seed_index) -> Path:
    target = tmp_path / "index"
    shutil.copytree(seed_index, target)
    return target


@pytest.fixture(scope="session")
def load_bench():
    """``load_bench(name)`` parses ``../shared/bench/<name>`` on first use (or skips where it is
    absent) and returns ``(documents, warnings)``, shared by every later caller."""
    loaded = {}

    def load(name: str):
        if name not in loaded:
            loader = DocumentLoader()
            loaded[name] = (list(loader([bench_path(name)])), list(loader.warnings))
        return loaded[name]

    return load
