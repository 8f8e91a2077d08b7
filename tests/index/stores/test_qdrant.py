"""The Qdrant store (index/stores/qdrant.py) in its local mode: its points' ids, and a built store
answering like the folder store. The location and client: test_qdrant_connection.py; BM25 sparse
vectors: test_qdrant_sparse.py; the writer: test_qdrant_writer.py. Building through Ray and
in-place updates: tests/index/test_stores_qdrant.py."""
import pytest

pytest.importorskip("qdrant_client", reason="the Qdrant store needs the scale extra: pip install -e '.[scale]'")

from index.builder import make_builder  # noqa: E402
from index.stores import open_store  # noqa: E402
from index.stores.qdrant import point_id  # noqa: E402
from support import WIKI_SEED  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_point_ids_are_stable_distinct_and_fit_qdrant():
    assert point_id("a") == point_id("a") and point_id("a") != point_id("b") < 2 ** 60


def test_a_local_store_built_from_the_bundled_corpus_answers_as_the_folder_store(seed_corpus_copy, tmp_path, embedder,
                                                                                 seed_index):
    location = f"qdrant+local:{tmp_path / 'store'}"
    with make_builder(location, progress=False, embedder=embedder) as builder:
        report = builder([seed_corpus_copy])
    assert (report.documents, report.passages) == (5, 24)
    engine, folder = open_store(location), open_store(seed_index)
    try:
        assert engine.count_documents() == folder.count_documents() == 5
        assert engine.count_passages() == folder.count_passages()
        assert {d.source for d in engine.document_summaries()} == {d.source for d in folder.document_summaries()}
        question = "When was SenseTime founded?"
        for mode in ("dense", "bm25", "hybrid"):
            vectors = embedder([question]) if mode != "bm25" else None
            (ranking,) = engine.search([question], vectors, 3, mode, (3.0, 1.0))
            assert engine.labels([ranking[0][0]])[ranking[0][0]][1] == WIKI_SEED, mode
        wiki = next(d for d in engine.documents() if d.source == WIKI_SEED)
        offset = wiki.text.index("co-founded in October 2014")
        assert "http://fortune.com/40-under-40/xu-li-7/" in engine.reference_urls(wiki.doc_id, offset, offset + 5)
    finally:
        engine.close()
        folder.close()
