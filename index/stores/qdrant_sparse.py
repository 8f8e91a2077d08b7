"""BM25 as Qdrant sparse vectors: each passage's term weights as the local bm25s index computes
them, with the IDF left to the engine (``Modifier.IDF``), over the collection as it stands."""
from __future__ import annotations

import hashlib
from collections import Counter
from typing import Sequence

from qdrant_client import models

from index.lexical import tokenize

# bm25s's defaults (method "lucene"), whose IDF is the one Qdrant's Modifier.IDF computes.
BM25_K1 = 1.5
BM25_B = 0.75


def term_index(token: str) -> int:
    """A token's sparse dimension: a stable 32-bit hash, the same in every process."""
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "little")


def bm25_vectors(texts: Sequence[str], average_length: float) -> list[models.SparseVector | None]:
    """Each text's BM25 term weights as bm25s computes them (without the IDF, which the engine
    applies); None for a text with no tokens."""
    vectors = []
    for tokens in tokenize(texts):
        if not tokens:
            vectors.append(None)
            continue
        counts = Counter(tokens)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * len(tokens) / average_length)
        indices = [term_index(token) for token in counts]
        vectors.append(models.SparseVector(indices=indices, values=[tf / (tf + norm) for tf in counts.values()]))
    return vectors


def bm25_query(question: str) -> models.SparseVector | None:
    """A question's terms, each weighted by how often it occurs (as bm25s sums them)."""
    counts = Counter(tokenize([question])[0])
    if not counts:
        return None
    return models.SparseVector(indices=[term_index(t) for t in counts], values=[float(c) for c in counts.values()])

