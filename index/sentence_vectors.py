"""Each passage's sentence vectors, pooled at index time from the passage's own forward pass.

A version keeps them in two plain files beside the FAISS index: ``sentences.npy`` (float16, one row
per sentence, passages in row order) and ``sentence_counts.npy`` (int32, sentences per passage
row). A version written before sentence vectors existed has neither file. The sentences are those ``ingest.sentences.split_sentences`` finds in the passage text, in order, so
the spans need no storing. Answer selection then is a dot product instead of a model pass.

>>> import tempfile
>>> from pathlib import Path
>>> rows = [np.ones((2, 3), np.float32), np.zeros((0, 3), np.float32), np.zeros((1, 3), np.float32)]
>>> folder = Path(tempfile.mkdtemp())
>>> SentenceVectors.from_rows(rows, dimension=3).save(folder)
>>> loaded = SentenceVectors.load(folder)
>>> loaded.of_row(0).shape, loaded.of_row(1).shape, loaded.of_row(2).tolist()
((2, 3), (0, 3), [[0.0, 0.0, 0.0]])
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

VECTORS_FILE = "sentences.npy"
COUNTS_FILE = "sentence_counts.npy"


def passage_sentence_spans(embedded_text: str, passage_text: str) -> list[tuple[int, int]]:
    """The char spans of the passage's sentences inside the text that is embedded for it (which
    ends with the passage text, after its title and section)."""
    from ingest.sentences import split_sentences

    lead = len(embedded_text) - len(passage_text)
    return [(lead + span.start, lead + span.end) for span in split_sentences(passage_text)]


@dataclass(frozen=True)
class SentenceVectors:
    vectors: np.ndarray   # float16 [sentences, dimension]
    counts: np.ndarray    # int32 [passages]

    @classmethod
    def from_rows(cls, rows: Sequence[np.ndarray], dimension: int) -> "SentenceVectors":
        counts = np.array([len(row) for row in rows], dtype=np.int32)
        present = [np.asarray(row, dtype=np.float16) for row in rows if len(row)]
        vectors = np.concatenate(present) if present else np.zeros((0, dimension), dtype=np.float16)
        return cls(vectors, counts)

    def of_row(self, row: int) -> np.ndarray:
        """The sentence vectors of passage ``row``, as float32."""
        start = self._offsets[row]
        return np.asarray(self.vectors[start:start + self.counts[row]], dtype=np.float32)

    def save(self, folder: Path) -> None:
        np.save(folder / VECTORS_FILE, self.vectors, allow_pickle=False)
        np.save(folder / COUNTS_FILE, self.counts, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> "SentenceVectors | None":
        """The version's sentence vectors, or None for a version written before they existed."""
        if not (folder / COUNTS_FILE).is_file():
            return None
        return cls(np.load(folder / VECTORS_FILE, mmap_mode="r", allow_pickle=False),
                   np.load(folder / COUNTS_FILE, allow_pickle=False))

    def __post_init__(self):
        # Where each passage's rows start, counted once.
        object.__setattr__(self, "_offsets", np.concatenate([[0], np.cumsum(self.counts)]))
