"""Synthetic passages around real ones, for the benchmarks' sized indexes (``eval.bench``, ``eval.scale_bench``)."""
from __future__ import annotations

import numpy as np

from index.backends.base import passage_embedding_text
from ingest.types import Document, Passage


def synthetic_documents(size: int, pool: list[dict], base: np.ndarray):
    """``size`` one-passage documents cycling through the real ``pool`` (a variant tag in the title
    from the second round, so BM25 sees distinct texts), with vectors drawn around the real
    embeddings ``base``; returns documents, passages, embedded texts, vectors and the generator."""
    rng = np.random.default_rng(size)
    documents, passages, texts = [], [], []
    for row in range(size):
        item = pool[row % len(pool)]
        variant = row // len(pool)
        title = item["title"] + (f" (variant {variant})" if variant else "")
        document = Document(doc_id=f"d{row}", path="bench", page=str(row), source=f"bench-{row}", title=title,
                            text=item["text"], format="bench", content_hash=str(row))
        documents.append(document)
        passages.append(Passage(f"d{row}:0", document.doc_id, 0, 0, len(item["text"]), item["text"], item["section"]))
        texts.append(passage_embedding_text(title, item["section"], item["text"]))
    centres = base[rng.integers(0, len(base), size)]
    vectors = centres + rng.normal(0, 0.35 / np.sqrt(base.shape[1]), centres.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return documents, passages, texts, vectors.astype(np.float32), rng
