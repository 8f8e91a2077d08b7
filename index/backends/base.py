"""What every embedding backend shares."""
from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np


class Encoder(Protocol):
    """Texts in, L2-normalised float32 vectors out."""

    precision: str
    dimension: int

    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


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
