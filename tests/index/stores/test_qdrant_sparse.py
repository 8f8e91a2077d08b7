"""``index.stores.qdrant_sparse``: BM25 term weights as Qdrant sparse vectors, the IDF left to the engine."""
import pytest

pytest.importorskip("qdrant_client", reason="the Qdrant store needs the scale extra: pip install -e '.[scale]'")

from index.lexical import tokenize  # noqa: E402
from index.stores.qdrant_sparse import BM25_B, BM25_K1, bm25_query, bm25_vectors, term_index  # noqa: E402


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
    assert term_index("kestrel") == term_index("kestrel") < 2 ** 32


def test_a_term_weighs_less_in_a_passage_longer_than_the_average_as_bm25_normalises():
    text = "The kestrel hovers over rough grassland hunting voles"
    (short,) = bm25_vectors([text], average_length=20.0)
    (long,) = bm25_vectors([text], average_length=2.0)
    kestrel = term_index("kestrel")
    tokens = len(tokenize([text])[0])
    expected = 1 / (1 + BM25_K1 * (1 - BM25_B + BM25_B * tokens / 20.0))
    assert dict(zip(short.indices, short.values))[kestrel] == pytest.approx(expected)
    assert dict(zip(long.indices, long.values))[kestrel] < dict(zip(short.indices, short.values))[kestrel]


def test_a_query_weighs_each_stemmed_term_by_how_often_it_occurs():
    query = bm25_query("Kestrels, kestrel and voles?")
    assert dict(zip(query.indices, query.values)) == {term_index("kestrel"): 2.0, term_index("vole"): 1.0}
