"""BM25 (bm25s) over the same passage texts the dense index embeds."""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import bm25s
import numpy as np

STOPWORDS = "en"
STEMMER_LANGUAGE = "english"


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer
    except ImportError:  # stemming is an optional nicety of bm25s
        return None
    return Stemmer.Stemmer(STEMMER_LANGUAGE)


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    return bm25s.tokenize(list(texts), stopwords=STOPWORDS, stemmer=_stemmer(),
                          return_ids=False, show_progress=False)


class LexicalIndex:
    """Rows and BM25 scores of the best-matching passages."""

    def __init__(self, retriever: bm25s.BM25):
        self.retriever = retriever
        self.vocabulary = set(retriever.vocab_dict) if retriever.vocab_dict else set()

    @classmethod
    def build(cls, texts: Sequence[str]) -> "LexicalIndex":
        retriever = bm25s.BM25()
        # bm25s cannot index an empty corpus or a document without tokens; a placeholder keeps rows aligned.
        tokens = [t or ["<empty>"] for t in tokenize(texts)] if texts else [["<empty>"]]
        retriever.index(tokens, show_progress=False)
        return cls(retriever)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        return cls(bm25s.BM25.load(str(folder), mmap=True, show_progress=False))

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder), show_progress=False)

    def search(self, queries: Sequence[str], k: int, allowed: np.ndarray | None = None) -> list[list[tuple[int, float]]]:
        """The top ``k`` ``(row, score)`` per query with a positive score; with ``allowed`` (rows), among
        those only: bm25s's ``weight_mask`` zeroes every other row's score before the top ``k`` is taken."""
        results = []
        size = int(self.retriever.scores["num_docs"])
        mask = None
        if allowed is not None:
            mask = np.zeros(size, dtype=np.float32)
            mask[allowed] = 1.0
        for query_tokens in tokenize(queries):
            known = [t for t in query_tokens if t in self.vocabulary]
            if not known or k <= 0:
                results.append([])
                continue
            rows, scores = self.retriever.retrieve([known], k=min(k, size), show_progress=False, n_threads=1,
                                                   weight_mask=mask)
            results.append([(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if s > 0])
        return results
