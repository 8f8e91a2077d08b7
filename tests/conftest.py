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


KESTREL_NOTE = """---
title: Kestrel field notes
date: 2021-06-14
tags: [birds, python]
---
# Kestrel field notes

Our own kestrel count along the river found 42 nesting pairs. The count was kept in a Python notebook.
"""
FALCON_NOTE = """---
title: Falcon migration
date: 2019-03-02
tags: birds
---
# Falcon migration

The peregrine falcon migration of 2019 was tracked from March. Seventeen falcons were ringed near the coast.
"""


@pytest.fixture(scope="session")
def scoped_corpus(tmp_path_factory) -> Path:
    """The bundled corpus (the seeds) plus two Markdown notes with front matter (``notes/``, ``docs/``)
    and a PDF (``reports/``), for ``--where``: the notes and the PDF count nesting pairs differently."""
    from support import make_pdf

    folder = tmp_path_factory.mktemp("scoped") / "corpus"
    shutil.copytree(BUNDLED_CORPUS, folder)
    for name, text in (("notes/kestrel.md", KESTREL_NOTE), ("docs/falcon.md", FALCON_NOTE)):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "reports").mkdir()
    make_pdf(folder / "reports" / "survey.pdf")
    return folder


@pytest.fixture(scope="session")
def scoped_index(tmp_path_factory, scoped_corpus, embedder) -> Path:
    """A folder index of ``scoped_corpus``, built once."""
    index_dir = tmp_path_factory.mktemp("scoped-index")
    IndexBuilder(index_dir, progress=False, embedder=embedder)([scoped_corpus])
    return index_dir
