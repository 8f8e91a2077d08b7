"""What the build pipeline and the stores exchange: the stages' data, and the two protocols
a store implements, ``IndexReader`` (questions) and ``IndexWriter`` (builds).

A build is four stages, the same for every store (``index.builder.IndexBuilder``)::

    read (ingest.DocumentLoader)  ->  chunk (ChunkedDocument)  ->  embed (EmbeddedDocument)  ->  write (IndexWriter)

A folder (``index.folder_writer.FolderWriter``) writes a complete new version when the build
commits; Qdrant (``index.stores.qdrant_writer.QdrantWriter``) writes each group of documents as
it is embedded. Ray's workers (``index.ray_ingest``) run the chunk and embed stages.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Callable, Collection, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from ingest.types import Document, Passage

if TYPE_CHECKING:   # only the protocols name them: importing the contracts loads no index library
    from index.scope import Scope
    from index.store import DocumentOrigin, DocumentSummary, Manifest, StoredPassage


class SearchMode(str, Enum):
    """How a store ranks passages: by meaning, by words (BM25), or both fused."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"

    def __str__(self) -> str:
        return self.value


class DocumentState(str, Enum):
    """A document's state in an incrementally written store: a build killed while ``WRITING`` or
    ``REMOVING`` a document finishes that document next time."""

    WRITING = "writing"
    COMPLETE = "complete"
    REMOVING = "removing"


@dataclass(frozen=True)
class IndexedDocument:
    """What a build needs to know of a document the store holds."""

    key: str
    doc_id: str
    path: str
    content_hash: str
    file_digest: str = ""
    state: DocumentState = DocumentState.COMPLETE


@dataclass(frozen=True)
class ChunkedPassage:
    """A passage, the text its vector is made from (title, section and text: ``passage_embedding_text``)
    and that text's key in the embedding cache (``embedding_key``, by model and text)."""

    passage: Passage
    embed_key: str
    text: str


@dataclass(frozen=True)
class ChunkedDocument:
    """The chunk stage's output: a document and its passages, ready to embed."""

    document: Document
    passages: tuple[ChunkedPassage, ...]
    file_digest: str = ""


@dataclass(frozen=True)
class StoredVector:
    """A passage's vector and sentence vectors, and the backend that made them."""

    vector: np.ndarray
    sentences: np.ndarray
    backend: str


@dataclass(frozen=True)
class EmbeddedDocument:
    """The embed stage's output: a document ready to write, with its passages' vectors."""

    document: Document
    passages: tuple[Passage, ...]
    embed_keys: tuple[str, ...]
    texts: tuple[str, ...]
    vectors: np.ndarray
    sentences: tuple[np.ndarray, ...]
    file_digest: str = ""
    backends: tuple[str, ...] = ()      # which backend made each passage's vector


@runtime_checkable
class IndexReader(Protocol):
    """The reading side every store answers, so everything above the index works on any of them."""

    manifest: Manifest

    @property
    def location(self) -> str: ...

    def search(self, questions: Sequence[str], question_vectors: np.ndarray | None, k: int, mode: str,
               weights: tuple[float, float], scope: Scope | None = None) -> list[list[tuple[int, float]]]: ...

    def passages(self, rows: Sequence[int]) -> dict[int, StoredPassage]: ...

    def labels(self, rows: Collection[int]) -> dict[int, tuple[str, str]]: ...

    def row_labels(self) -> list[tuple[str, str]]: ...

    def sentence_vectors(self, passage_id: str) -> np.ndarray | None: ...

    def reference_urls(self, doc_id: str, start: int, end: int) -> tuple[str, ...]: ...

    def count_documents(self) -> int: ...

    def count_passages(self) -> int: ...

    def document_summaries(self) -> list[DocumentSummary]: ...

    def document(self, doc_id: str) -> Document | None: ...

    def origin(self, doc_id: str) -> DocumentOrigin | None: ...

    def documents(self) -> list[Document]: ...

    def passages_of(self, doc_id: str) -> list[tuple[Passage, str]]: ...

    def close(self) -> None: ...


@runtime_checkable
class IndexWriter(Protocol):
    """What a store does for a build; the builder decides what to write (``index.builder``)."""

    location: str
    # The manifest of what the store holds now; None where it holds nothing (or a rebuild starts over).
    manifest: Manifest | None
    # Whether a build with other chunking re-chunks every document (a store that writes whole
    # versions can), or is refused (a store written in place cannot mix two chunkings).
    rechunks: bool

    def session(self) -> AbstractContextManager[None]:
        """Hold the store for one build (a folder's lock, and its live version read under it)."""

    def indexed(self) -> dict[str, IndexedDocument]:
        """The documents the store holds, by key."""

    def carried(self, kept: Collection[str]) -> list[tuple[Document, list[tuple[Passage, str]]]]:
        """Documents (of the keys ``kept``) that a new version must hold again though unchanged,
        with their stored passages; empty for a store written in place."""

    def reusable(self, keys: Collection[str], doc_ids: Collection[str]) -> Mapping[str, StoredVector]:
        """Vectors the store already holds for these embedding keys (or documents)."""

    def keep(self, keys: Sequence[str], vectors: np.ndarray, sentences: Sequence[np.ndarray], backend: str) -> None:
        """Vectors just embedded: a folder caches them at once, so a killed build resumes."""

    def begin(self, new_manifest: Callable[[], Manifest], texts: Sequence[str]) -> None:
        """Called before the first write, with the builder's manifest and every passage text to
        write (a collection created now takes BM25's average length from them)."""

    def write(self, documents: Sequence[EmbeddedDocument], indexed: Mapping[str, IndexedDocument]) -> None: ...

    def remove(self, documents: Sequence[IndexedDocument]) -> None: ...

    def up_to_date(self, file_digests: Mapping[str, str], removed_keys: Collection[str]) -> bool:
        """Whether the store already is what a build that changes no document would write."""

    def commit(self, manifest: Manifest | None, file_digests: Mapping[str, str]) -> None:
        """End a build that wrote (``manifest``: what its vectors are; None where it wrote none):
        a folder writes its new version and makes it live."""

    def count_passages(self) -> int: ...

    def close(self) -> None: ...
