"""What every embedding backend shares."""
from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np


Spans = Sequence[tuple[int, int]]


class Encoder(Protocol):
    """Texts in, L2-normalised float32 vectors out."""

    precision: str
    dimension: int

    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Spans]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' vectors, and for each text one vector per char span of it (its sentences),
        pooled from the same forward pass: the tokens' contextual states, averaged over the span."""
        ...


class BackendUnavailable(RuntimeError):
    """The backend asked for cannot run here; the message says what to install or choose."""


def token_counts(tokenizer, texts: Sequence[str]) -> list[int]:
    """How many word pieces each text is, without special tokens or truncation."""
    if not texts:
        return []
    return [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]]


def normalized(vectors) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def pool_spans(hidden: np.ndarray, offsets: np.ndarray, mask: np.ndarray, spans: Spans) -> np.ndarray:
    """One L2-normalised vector per char span: the mean of the token states (``hidden``, one row per
    token) whose text starts inside the span. Special and padding tokens (``mask`` 0, or empty
    offsets) count for none; a span the model never saw (cut off by truncation) gets zeros."""
    pooled = np.zeros((len(spans), hidden.shape[-1]), dtype=np.float32)
    starts = np.asarray(offsets)[:, 0]
    real = (np.asarray(mask) > 0) & (np.asarray(offsets)[:, 1] > starts)
    for index, (start, end) in enumerate(spans):
        tokens = real & (starts >= start) & (starts < end)
        if tokens.any():
            pooled[index] = hidden[tokens].astype(np.float32).mean(axis=0)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.where(norms > 0, pooled / np.maximum(norms, 1e-12), 0.0).astype(np.float32)


def stripped_with_spans(text: str, spans: Spans) -> tuple[str, list[tuple[int, int]]]:
    """``text`` stripped as the encoders strip it, with ``spans`` moved to match."""
    lead = len(text) - len(text.lstrip())
    return text.strip(), [(start - lead, end - lead) for start, end in spans]


def passage_embedding_text(title: str, section: str, text: str) -> str:
    """What is embedded and BM25-indexed for a passage: its document title and section give
    a bare passage ("It was founded in 2014") the context a question names."""
    return "\n".join(part for part in (title, section, text) if part)
