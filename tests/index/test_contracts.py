"""``index.contracts``: every store's reader and writer answer the two protocols the pipeline and
everything above the index use."""
from __future__ import annotations

import pytest

from index.contracts import IndexReader, IndexWriter, SearchMode
from index.folder_writer import FolderWriter
from index.settings import Settings
from index.stores import open_store, open_writer
from ingest import BUNDLED_CORPUS
from qa.retriever import MODES, QuestionError, check_mode


def test_the_folder_store_reads_and_writes_through_the_protocols(seed_index, tmp_path):
    store = open_store(seed_index)
    try:
        assert isinstance(store, IndexReader)
    finally:
        store.close()
    writer = open_writer(tmp_path / "new", Settings())
    assert isinstance(writer, FolderWriter) and isinstance(writer, IndexWriter) and writer.manifest is None


def test_qdrant_reads_and_writes_through_the_protocols(tmp_path, embedder):
    pytest.importorskip("qdrant_client", reason="the scale extra: pip install -e '.[scale]'")
    from index.builder import IndexBuilder

    location = f"qdrant+local:{tmp_path / 'store'}"
    with IndexBuilder(location, progress=False, embedder=embedder) as builder:
        assert isinstance(builder.writer, IndexWriter) and not builder.writer.rechunks
        builder([BUNDLED_CORPUS])
    with open_store(location) as store:
        assert isinstance(store, IndexReader)


def test_modes_are_one_enum():
    assert MODES == ("hybrid", "dense", "bm25") and check_mode("bm25") is SearchMode.BM25
    with pytest.raises(QuestionError, match="unknown retrieval mode 'lexical'; choose one of hybrid, dense, bm25"):
        check_mode("lexical")
