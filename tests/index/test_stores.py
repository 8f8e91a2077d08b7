"""Choosing a store by its location (index/stores/__init__.py): a folder or an engine URL."""
from pathlib import Path

import pytest

from index.builder import IndexBuilder, make_builder
from index.store import IndexNotFound, IndexStore
from index.stores import engine_scheme, is_engine, open_store


def test_engine_urls_name_their_engine_and_anything_else_is_a_folder():
    assert engine_scheme("qdrant://db.internal:6333/docs") == "qdrant"
    assert engine_scheme("qdrant+local:/tmp/q") == "qdrant+local"
    for folder in ("/tmp/index", "relative/index", "C:/Users/index", "http://example.org/x", Path("qdrant://x")):
        assert engine_scheme(folder) is None and not is_engine(folder), folder


def test_a_folder_location_builds_and_opens_the_folder_store(tmp_path, seed_index):
    assert isinstance(make_builder(tmp_path / "new"), IndexBuilder)
    store = open_store(seed_index)
    assert isinstance(store, IndexStore) and store.count_documents() == 5
    store.close()
    with pytest.raises(IndexNotFound):
        open_store(tmp_path / "missing")
