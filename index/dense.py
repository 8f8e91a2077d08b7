"""FAISS inner-product search over normalised vectors: exact below a size, HNSW above."""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

# Below this many passages an exact scan is fast enough (about 6 ms at 50k on 2 cores, 12 ms at
# 100k, on top of ~16 ms of query encoding) and free of recall loss; see eval/bench.py.
HNSW_THRESHOLD = 50_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# A scope that allows less than this share of an HNSW index's rows is searched exactly, by a selector
# scan of the flat storage (2% of 100k rows: 3 ms, every true neighbour); so few allowed nodes leave a
# graph walk too little to go on. Above it the walk skips the others, with efSearch raised by 1/share
# up to FILTERED_EF_MAX: 10% of 100k rows in 7 ms at recall@10 0.90 against the exact subset (the
# unscoped walk: 2 ms at 0.57 on the same synthetic vectors; docs/benchmarks.md, "Scoped questions").
EXACT_SHARE = 0.03
FILTERED_EF_MAX = 1024


def choose_index_type(passages: int, requested: str = "auto") -> str:
    if requested not in {"auto", "flat", "hnsw"}:
        raise ValueError(f"unknown index type {requested!r}; choose auto, flat or hnsw")
    if requested != "auto":
        return requested
    return "flat" if passages < HNSW_THRESHOLD else "hnsw"


def build_dense_index(vectors: np.ndarray, index_type: str) -> faiss.Index:
    dimension = vectors.shape[1]
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


class DenseIndex:
    """Rows and cosine scores of the nearest passages to query vectors."""

    def __init__(self, index: faiss.Index):
        self.index = index
        if isinstance(index, faiss.IndexHNSWFlat):
            index.hnsw.efSearch = HNSW_EF_SEARCH

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        return cls.from_bytes(path.read_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> "DenseIndex":
        """An index from the bytes of a saved one; raises ``RuntimeError`` for bytes FAISS cannot read."""
        return cls(faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8)))

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    def __len__(self) -> int:
        return self.index.ntotal

    def search(self, query_vectors: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[list[tuple[int, float]]]:
        """The top ``k`` ``(row, score)`` per query; with ``allowed`` (sorted rows), among those rows only.

        A flat index scans with FAISS's ``IDSelectorBitmap``, computing only the allowed rows' scores.
        An HNSW index walks its graph with the selector, ``efSearch`` raised by the inverse of the
        allowed share (to ``FILTERED_EF_MAX``), so the walk still meets enough allowed nodes; below
        ``EXACT_SHARE`` it scans its flat storage with the selector instead, exactly.
        """
        limit = self.index.ntotal if allowed is None else len(allowed)
        k = min(k, limit)
        if k <= 0:
            return [[] for _ in range(len(query_vectors))]
        params, searched = None, self.index
        if allowed is not None and len(allowed) < self.index.ntotal:
            chosen = np.zeros(self.index.ntotal, dtype=bool)
            chosen[allowed] = True
            bitmap = np.packbits(chosen, bitorder="little")   # FAISS reads bit (row & 7) of byte row >> 3
            selector = faiss.IDSelectorBitmap(self.index.ntotal, faiss.swig_ptr(bitmap))
            share = len(allowed) / self.index.ntotal
            if isinstance(self.index, faiss.IndexHNSWFlat) and share >= EXACT_SHARE:
                depth = int(min(FILTERED_EF_MAX, max(HNSW_EF_SEARCH, k, HNSW_EF_SEARCH / share)))
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=depth)
            else:
                if isinstance(self.index, faiss.IndexHNSWFlat):
                    searched = faiss.downcast_index(self.index.storage)
                params = faiss.SearchParameters(sel=selector)
        threads = faiss.omp_get_max_threads()
        if len(query_vectors) < 4:
            # For a single query, OpenMP start-up costs more than the second core saves (18 vs 12 ms at 100k).
            faiss.omp_set_num_threads(1)
        try:
            scores, rows = searched.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k, params=params)
        finally:
            faiss.omp_set_num_threads(threads)
        return [[(int(r), float(s)) for r, s in zip(row_ids, row_scores) if r >= 0]
                for row_ids, row_scores in zip(rows, scores)]
