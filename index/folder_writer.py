"""The folder store's ``IndexWriter``: a build writes one complete new version (``index.store``).

What is the folder's own: its lock, the live version read under it, the embedding cache
(``embeddings.sqlite``, committed batch by batch so a killed build resumes), and the version
written at the end, with every document the build kept, before ``CURRENT`` is repointed.
"""
from __future__ import annotations

import fcntl
import sqlite3
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Callable, Collection, Iterator, Mapping, Sequence

import numpy as np

from index.cache import EmbeddingCache
from index.contracts import DocumentState, EmbeddedDocument, IndexedDocument, StoredVector
from index.dense import DenseIndex, build_dense_index, choose_index_type
from index.lexical import LexicalIndex
from index.sentence_vectors import COUNTS_FILE, SentenceVectors
from index.store import (
    FORMAT_VERSION, BuildInProgress, DiskFull, IndexStore, Manifest, claim_index_folder, current_version, is_disk_full, write_version,
)
from ingest.types import Document, Passage


class FolderWriter:
    """Writes an index folder; see ``index.builder.IndexBuilder`` for how a build uses it."""

    rechunks = True

    def __init__(self, root: Path, index_type: str = "auto", rebuild: bool = False):
        self.root = Path(root)
        self.location = str(self.root)
        self.index_type = index_type
        self.rebuild = rebuild
        claim_index_folder(self.root)
        live = None if rebuild else current_version(self.root)
        self.manifest: Manifest | None = Manifest.read(live / "manifest.json") if live else None
        self.previous: IndexStore | None = None
        self._items: list[EmbeddedDocument] = []
        self._passages = self.manifest.passages if self.manifest else 0

    @contextmanager
    def session(self) -> Iterator[None]:
        """The folder's lock, and its live version opened (manifest and SQLite only: what changed
        is decided without loading FAISS or BM25) as ``previous``."""
        claim_index_folder(self.root)
        with open(self.root / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BuildInProgress(f"another build is writing {self.root}; wait for it to finish") from None
            live = None if self.rebuild else current_version(self.root)
            self.previous = IndexStore(self.root, live, searchable=False) if live else None
            self.manifest = self.previous.manifest if self.previous else None
            self._passages = self.manifest.passages if self.manifest else 0
            self._items = []
            try:
                yield
            except sqlite3.OperationalError as error:
                if is_disk_full(error):
                    raise DiskFull(f"no space left on the disk of {self.root}; the live index is unchanged: "
                                   "free some space and rerun (embeddings made so far are kept)") from None
                raise
            finally:
                if self.previous:
                    self.previous.close()
                self.previous = None

    def indexed(self) -> dict[str, IndexedDocument]:
        if self.previous is None:
            return {}
        files = self.previous.manifest.files
        # A version of an older format lacks what a read adds now (source maps, front-matter fields): its documents are
        # read and written again, as a build killed while writing them would be.
        current = self.previous.manifest.format_version == FORMAT_VERSION and self.previous.records_fields
        # Read under the session's lock, from the version the build replaces.
        rows = self.previous._query("SELECT key, doc_id, path, content_hash FROM documents")
        return {r["key"]: IndexedDocument(r["key"], r["doc_id"], r["path"], r["content_hash"],
                                          files.get(r["path"], "") if current else "",
                                          DocumentState.COMPLETE if current else DocumentState.WRITING)
                for r in rows}

    def carried(self, kept: Collection[str]) -> list[tuple[Document, list[tuple[Passage, str]]]]:
        """The previous version's documents of the keys ``kept``, with their stored passages: a new
        version holds every document again."""
        if self.previous is None:
            return []
        return [(document, self.previous.passages_of(document.doc_id))
                for document in self.previous.documents() if document.key in kept]

    def reusable(self, keys: Collection[str], doc_ids: Collection[str]) -> dict[str, StoredVector]:
        """Cached vectors of ``keys``. One cached before sentence vectors existed is made again, once,
        so every passage of the new version has both."""
        return {key: StoredVector(item.vector, item.sentences, item.backend)
                for key, item in self._cache().get_many(list(keys)).items() if item.sentences is not None}

    def keep(self, keys: Sequence[str], vectors: np.ndarray, sentences: Sequence[np.ndarray], backend: str) -> None:
        self._cache().put_many(keys, vectors, backend, sentences)

    def begin(self, new_manifest: Callable[[], Manifest], texts: Sequence[str]) -> None:
        """Nothing to prepare: the version is written whole in ``commit``."""

    def write(self, documents: Sequence[EmbeddedDocument], indexed: Mapping[str, IndexedDocument]) -> None:
        self._items.extend(documents)

    def remove(self, documents: Sequence[IndexedDocument]) -> None:
        """Nothing to delete: a document the build did not carry is not in the new version."""

    def up_to_date(self, file_digests: Mapping[str, str], removed_keys: Collection[str]) -> bool:
        manifest = self.manifest
        return (self.previous is not None and not removed_keys and manifest.files == dict(file_digests)
                and manifest.dense_index == choose_index_type(manifest.passages, self.index_type)
                and (self.previous.version / COUNTS_FILE).is_file())   # written before sentence vectors: upgrade it

    def commit(self, manifest: Manifest | None, file_digests: Mapping[str, str]) -> None:
        """Write the version of every document written (kept ones included), in key order."""
        items = sorted(self._items, key=lambda item: item.document.key)
        passages = [(passage, key) for item in items for passage, key in zip(item.passages, item.embed_keys)]
        vectors = np.concatenate([item.vectors for item in items] or [np.zeros((0, manifest.dimension))]).astype(np.float32)
        index_type = choose_index_type(len(passages), self.index_type)
        dense = DenseIndex(build_dense_index(vectors, index_type))
        lexical = LexicalIndex.build([text for item in items for text in item.texts])
        sentences = SentenceVectors.from_rows([rows for item in items for rows in item.sentences], int(vectors.shape[1]))
        manifest = replace(manifest, dimension=int(vectors.shape[1]), dense_index=index_type,
                           documents={item.document.key: item.document.content_hash for item in items},
                           passages=len(passages), files=dict(file_digests))
        write_version(self.root, manifest, [item.document for item in items], passages, dense, lexical, sentences)
        self._cache().retain([key for _, key in passages])
        self._passages = len(passages)
        self._items = []

    def count_passages(self) -> int:
        return self._passages

    def close(self) -> None:
        if hasattr(self, "_embedding_cache"):
            self._embedding_cache.close()
            del self._embedding_cache

    def _cache(self) -> EmbeddingCache:
        if not hasattr(self, "_embedding_cache"):
            self._embedding_cache = EmbeddingCache.open_or_reset(self.root / "embeddings.sqlite")
        return self._embedding_cache
