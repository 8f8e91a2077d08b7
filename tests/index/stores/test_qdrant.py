"""The Qdrant store (index/stores/qdrant.py) in its local mode: what is Qdrant's own, the location,
the sparse BM25 vectors and the collection's points, and a built store answering like the folder
store. Building through Ray, damage and in-place updates: tests/index/test_stores_qdrant.py and
test_qdrant_damage.py."""
import pytest

pytest.importorskip("qdrant_client", reason="the Qdrant store needs the scale extra: pip install -e '.[scale]'")

from index.builder import make_builder  # noqa: E402
from index.stores import open_store  # noqa: E402
from index.stores.qdrant import point_id  # noqa: E402
from index.stores.qdrant_connection import QdrantLocation  # noqa: E402
from index.stores.qdrant_sparse import bm25_query, bm25_vectors, term_index  # noqa: E402
from support import WIKI_SEED  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_locations_parse_to_a_server_or_a_local_folder_and_bad_ones_are_one_line(tmp_path):
    server = QdrantLocation.parse("qdrant://db.internal/papers?https=1&shards=6&replicas=2")
    assert (server.url, server.collection, server.shards, server.replicas) == ("https://db.internal:6333", "papers", 6, 2)
    local = QdrantLocation.parse(f"qdrant+local:{tmp_path}")
    assert local.path == str(tmp_path.resolve()) and local.url is None
    assert server.documents_collection != server.collection
    for bad in ("qdrant://db:6333/", "qdrant://db:6333/a/b", "qdrant://db:6333/x?shards=0", "qdrant://db/x?color=red",
                "qdrant+local:"):
        with pytest.raises(ValueError) as refused:
            QdrantLocation.parse(bad)
        assert "\n" not in str(refused.value)


def test_sparse_bm25_vectors_weigh_repeated_terms_and_share_dimensions_with_the_query():
    (long_text, repeated, empty) = bm25_vectors(["The kestrel hovers over rough grassland hunting voles",
                                                 "kestrel kestrel", "the of and"], average_length=4.0)
    assert empty is None and bm25_query("the of") is None
    query = bm25_query("Where does the kestrel hunt?")
    kestrel = term_index("kestrel")
    assert kestrel in query.indices and kestrel in long_text.indices and kestrel in repeated.indices
    weight = dict(zip(repeated.indices, repeated.values))[kestrel]
    assert weight > dict(zip(long_text.indices, long_text.values))[kestrel], "two of two tokens beats one of seven"
    assert all(0 < value < 1 for value in long_text.values)
    assert term_index("kestrel") == term_index("kestrel") < 2 ** 32 and point_id("a") != point_id("b") < 2 ** 60


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
