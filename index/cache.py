"""Embeddings kept by (model, text) so unchanged passages are never embedded twice.

Each vector remembers the backend that made it: backends agree to a cosine of about 0.9999, so a
vector is reused whichever backend asks, and the manifest counts how many each backend made.
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from index.store import is_disk_full

# Caches written before backends existed hold torch fp32 vectors only.
LEGACY_BACKEND = "torch-fp32"

log = logging.getLogger("docqa.index")


def embedding_key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class CachedVector:
    vector: np.ndarray
    backend: str
    sentences: np.ndarray | None = None   # the passage's sentence vectors; None if cached before they existed


class EmbeddingCache:
    """A SQLite table of float32 passage vectors, each with its passage's float16 sentence vectors;
    each batch is committed as soon as it is embedded, so an interrupted build resumes where it stopped."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        try:
            self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL, "
                            f"backend TEXT NOT NULL DEFAULT '{LEGACY_BACKEND}', sentences BLOB)")
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(vectors)")}
            if "backend" not in columns:
                self.db.execute(f"ALTER TABLE vectors ADD COLUMN backend TEXT NOT NULL DEFAULT '{LEGACY_BACKEND}'")
            if "sentences" not in columns:
                self.db.execute("ALTER TABLE vectors ADD COLUMN sentences BLOB")
            self.db.execute("SELECT key, vector, backend, sentences FROM vectors LIMIT 1").fetchall()
            self.db.commit()
        except sqlite3.DatabaseError:
            self.db.close()
            raise

    @classmethod
    def open_or_reset(cls, path: Path) -> "EmbeddingCache":
        """Open the cache; a damaged one is moved aside with a warning and started afresh,
        since it only ever saves work."""
        try:
            return cls(path)
        except sqlite3.DatabaseError as error:
            if is_disk_full(error) or "locked" in str(error).lower():
                raise
            aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
            path.rename(aside)
            for suffix in ("-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            log.warning("%s: the embedding cache is damaged (%s); moved it to %s and started a new one",
                        path, error, aside.name)
            return cls(path)

    def close(self) -> None:
        self.db.close()

    def get_many(self, keys: Sequence[str]) -> dict[str, CachedVector]:
        found: dict[str, CachedVector] = {}
        unique = list(dict.fromkeys(keys))
        for offset in range(0, len(unique), 900):
            chunk = unique[offset:offset + 900]
            marks = ",".join("?" * len(chunk))
            for key, blob, backend, sentences in self.db.execute(
                    f"SELECT key, vector, backend, sentences FROM vectors WHERE key IN ({marks})", chunk):
                vector = np.frombuffer(blob, dtype=np.float32)
                rows = None if sentences is None else np.frombuffer(sentences, dtype=np.float16).reshape(-1, len(vector))
                found[key] = CachedVector(vector, backend, rows)
        return found

    def put_many(self, keys: Sequence[str], vectors: np.ndarray, backend: str,
                 sentences: Sequence[np.ndarray] | None = None) -> None:
        """Store each key's vector and, where given, its sentence vectors (as float16)."""
        sentences = sentences if sentences is not None else [None] * len(keys)
        self.db.executemany("INSERT OR REPLACE INTO vectors (key, vector, backend, sentences) VALUES (?, ?, ?, ?)", [
            (key, np.asarray(v, dtype=np.float32).tobytes(), backend,
             None if rows is None else np.asarray(rows, dtype=np.float16).tobytes())
            for key, v, rows in zip(keys, vectors, sentences)])
        self.db.commit()

    def retain(self, keys: Sequence[str]) -> int:
        """Drop every vector not in ``keys``; returns how many were dropped."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key TEXT PRIMARY KEY)")
        self.db.execute("DELETE FROM keep")
        self.db.executemany("INSERT OR IGNORE INTO keep VALUES (?)", [(k,) for k in keys])
        dropped = self.db.execute("DELETE FROM vectors WHERE key NOT IN (SELECT key FROM keep)").rowcount
        self.db.commit()
        return dropped
