"""Reciprocal rank fusion, in the form vector databases compute it, so every store ranks alike.

Qdrant's weighted RRF scores a row ``1 / (rank / weight + k - 1)`` in each ranking it appears in
(rank counted from 1), and sums. The local store uses the same formula, so a hybrid query gives
the same ranking whether FAISS + bm25s or the engine answers it (docs/scale-out.md).

>>> dense, bm25 = [(7, 0.9), (3, 0.8)], [(3, 12.0), (5, 9.0)]
>>> [row for row, _ in reciprocal_rank_fusion((dense, bm25), (1.0, 1.0))]
[3, 7, 5]
"""
from __future__ import annotations

from typing import Sequence

RRF_K = 60
# How many rows each ranking contributes to a fusion.
CANDIDATES = 100
# Chosen by `python -m eval tune` on the dev splits only (the question set's dev split and SciFact
# train); see docs/benchmarks.md, "Retrieval quality". 3.0 (mean dev nDCG@10 0.691) edges out 1.4
# (0.689) once tables and templates read as text; under the sentence step it scores 0.731.
DENSE_WEIGHT = 3.0
BM25_WEIGHT = 1.0
# Hybrid's top RERANK_DEPTH rows are fused once more (weight 1) with a third ranking, each passage's
# best sentence's cosine to the question from the stored sentence vectors, at SENTENCE_WEIGHT: a
# passage whose one sentence answers the question outranks one that is only broadly on topic.
# Chosen by `python -m eval tune` on the same dev splits (0.5: mean dev nDCG@10 0.731, against 0.691
# without the step); 0 turns the step off. It ranks questions only (``qa.retriever.asks_a_question``):
# a statement, such as a SciFact claim, keeps hybrid's order (SciFact train 0.717 without, 0.714 with).
RERANK_DEPTH = 30
SENTENCE_WEIGHT = 0.5


def rrf_score(rank: int, weight: float, k: int = RRF_K) -> float:
    """One ranking's share of a row's fused score; a weight of 0 or less ignores the ranking."""
    return 0.0 if weight <= 0 else 1.0 / (rank / weight + k - 1)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[tuple[int, float]]], weights: Sequence[float],
                           k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked lists of ``(row, score)``: each row scores the sum of ``rrf_score`` over the
    lists it appears in; ties go to the lower row."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, (row, _) in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + rrf_score(rank, weight, k)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
