import numpy as np
import pytest

from index.dense import HNSW_THRESHOLD, DenseIndex, build_dense_index, choose_index_type
from index.lexical import LexicalIndex


def test_index_type_is_chosen_by_size():
    assert choose_index_type(10) == "flat"
    assert choose_index_type(HNSW_THRESHOLD - 1) == "flat"
    assert choose_index_type(HNSW_THRESHOLD) == "hnsw"
    assert choose_index_type(10, "hnsw") == "hnsw"
    with pytest.raises(ValueError, match="choose auto, flat or hnsw"):
        choose_index_type(10, "ivf")


def test_hnsw_finds_what_the_exact_scan_finds_on_real_embeddings(embedder, tmp_path):
    sentences = [f"Passage {i} talks about {topic} in year {1990 + i % 30}." for i, topic in
                 enumerate(["aspirin", "bones", "sleep", "rivers", "chess", "tax law", "volcanoes", "jazz"] * 40)]
    vectors = embedder(sentences)
    flat, hnsw = DenseIndex(build_dense_index(vectors, "flat")), DenseIndex(build_dense_index(vectors, "hnsw"))
    hnsw.save(tmp_path / "hnsw.faiss")
    reloaded = DenseIndex.load(tmp_path / "hnsw.faiss")
    queries = embedder(["What about volcanoes?", "jazz in 1995", "sleep"])
    for exact, approximate in zip(flat.search(queries, 10), reloaded.search(queries, 10)):
        assert len({r for r, _ in exact} & {r for r, _ in approximate}) >= 9
    assert len(reloaded) == len(sentences)


def test_empty_and_oversized_searches():
    index = DenseIndex(build_dense_index(np.eye(3, dtype=np.float32), "flat"))
    rows = [r for r, _ in index.search(np.eye(3, dtype=np.float32)[:1], 10)[0]]
    assert rows[0] == 0 and sorted(rows) == [0, 1, 2], "k above the index size returns every row once"
    lexical = LexicalIndex.build(["alpha beta", "gamma"])
    assert lexical.search(["zeta", "gamma"], 5) == [[], [(1, pytest.approx(lexical.search(["gamma"], 1)[0][0][1]))]]


@pytest.mark.parametrize("index_type, graph_walk", [("flat", False), ("hnsw", False), ("hnsw", True)])
def test_a_search_among_allowed_rows_returns_their_exact_nearest_only(embedder, monkeypatch, index_type, graph_walk):
    import index.dense

    sentences = [f"Passage {i} talks about {topic} in year {1990 + i % 30}." for i, topic in
                 enumerate(["aspirin", "bones", "sleep", "rivers", "chess", "tax law", "volcanoes", "jazz"] * 40)]
    vectors = embedder(sentences)
    dense = DenseIndex(build_dense_index(vectors, index_type))
    if graph_walk:   # a subset over the threshold walks the graph with the selector
        monkeypatch.setattr(index.dense, "EXACT_SHARE", 0.01)
    else:
        monkeypatch.setattr(index.dense, "EXACT_SHARE", 0.5)
    allowed = np.arange(3, len(sentences), 5)
    queries = embedder(["What about volcanoes?", "jazz in 1995"])
    for query, found in zip(queries, dense.search(queries, 10, allowed)):
        exact = allowed[np.argsort(-(vectors[allowed] @ query))[:10]]
        assert {row for row, _ in found} <= set(allowed.tolist())
        assert len({row for row, _ in found} & set(exact.tolist())) >= (9 if graph_walk else 10)
    assert dense.search(queries[:1], 10, np.array([7]))[0][0][0] == 7
    assert dense.search(queries[:1], 10, np.zeros(0, dtype=np.int64)) == [[]]
