"""An index in Qdrant: a server or cluster (``qdrant://host:6333/collection``) or the client's local
mode (``qdrant+local:PATH``), with the calls of the folder store (``index.store``).

The collection holds one point per passage:

- ``dense``: the passage vector (dot product over normalised vectors, as FAISS);
- ``bm25``: a sparse vector of the passage's BM25 term weights from the tokeniser, stemmer and stop
  words of the local bm25s index, with ``Modifier.IDF`` so the engine supplies the IDF over the
  collection as it stands. A point's value for a term is bm25s's ``tf / (tf + k1 (1 - b + b dl /
  avgdl))``; ``avgdl`` is fixed at the first build and kept in the manifest, so a later insert
  never rewrites earlier points;
- the payload: the text, the citation fields, the embedding cache key and the passage's sentence
  vectors (float16, base64), so answers need no model pass.

A side collection ``<collection>-documents`` holds one record per document (its text, spans,
content hash and file digest, and a state). The manifest (model, dimension, chunking, backend,
BM25 parameters, format version) is the collection's metadata, so a model mismatch is refused
here as for a folder. Hybrid search is one query: two prefetches (dense and BM25, ``CANDIDATES``
each) fused by the engine's weighted RRF with the local store's ``k`` and weights.

An update deletes and inserts by ``doc_id``. A document's record says ``writing`` until all its
points are in, so a build killed midway redoes that document next time instead of keeping half
of it. This module reads; ``qdrant_writer`` writes, ``qdrant_connection`` holds the clients and
``qdrant_sparse`` makes the BM25 vectors.
"""
from __future__ import annotations

import base64
import hashlib
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Collection, Iterator, Sequence

import numpy as np

from index.stores.qdrant_connection import (  # noqa: F401  (QdrantLocation, EngineUnavailable: this engine's API)
    EngineUnavailable, QdrantLocation, acquire, release, snapshot_client,
)
from qdrant_client import QdrantClient, models

from index.contracts import DocumentState
from index.fusion import CANDIDATES, RRF_K
from index.settings import current_settings
from index.store import (
    FORMAT_VERSION, BuildInProgress, DocumentOrigin, DocumentSummary, IndexCorrupt, IndexMismatch, IndexNotFound,
    Manifest, NotAnIndex, StoredPassage, field_lists, fields_from_lists, mark_lists, marks_from_lists, span_lists,
    spans_from_lists,
)
from index.scope import Scope, ScopedDocument, ScopeTable
from index.stores.qdrant_filters import NOTHING, SCOPE_FIELDS, passage_filter, scoped_document
from index.stores.qdrant_sparse import bm25_query
from ingest.types import Document, Passage, Span, labels_overlapping

DENSE = "dense"
SPARSE = "bm25"
MANIFEST_KEY = "docqa"
# Payload fields a hit needs; the sentence vectors are fetched with them, for the answer.
_HIT_FIELDS = ["passage_id", "doc_id", "ordinal", "start", "end", "text", "section", "urls", "page",
               "title", "source", "url", "published", "sentences"]
_SUMMARY_FIELDS = ["doc_id", "title", "source", "format", "published", "passages", "path"]
_UNKNOWN = object()


def point_id(key: str) -> int:
    """A passage's (or document's) point id: 60 bits of its id's sha256."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:15], 16)


def _decode_vectors(text: str, dimension: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float16).reshape(-1, dimension).astype(np.float32)


def document_record(document: Document) -> dict:
    """A document's fields as plain JSON values (``document_from_record`` reads them back)."""
    return {"doc_id": document.doc_id, "path": document.path, "page": document.page, "source": document.source,
            "title": document.title, "format": document.format, "url": document.url, "published": document.published,
            "content_hash": document.content_hash, "text": document.text, "sections": span_lists(document.sections),
            "refs": span_lists(document.refs), "pages": span_lists(document.pages),
            "source_map": mark_lists(document.source_map), "fields": field_lists(document.fields)}


def document_from_record(record: dict) -> Document:
    return Document(
        doc_id=record["doc_id"], path=record["path"], page=record["page"], source=record["source"],
        title=record["title"], text=record["text"], format=record["format"], content_hash=record["content_hash"],
        url=record["url"], published=record["published"], sections=spans_from_lists(record["sections"]),
        refs=spans_from_lists(record["refs"]), pages=spans_from_lists(record["pages"]),
        source_map=marks_from_lists(record.get("source_map")),   # absent in a collection written before source maps
        fields=fields_from_lists(record.get("fields")))


def passage_from_payload(payload: dict) -> Passage:
    return Passage(passage_id=payload["passage_id"], doc_id=payload["doc_id"], ordinal=payload["ordinal"],
                   start=payload["start"], end=payload["end"], text=payload["text"], section=payload["section"],
                   urls=tuple(payload["urls"]), page=payload["page"])


def _doc_filter(doc_ids: Collection[str]) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="doc_id", match=models.MatchAny(any=list(doc_ids)))])


def read_manifest(client: QdrantClient, location: QdrantLocation) -> Manifest | None:
    """The manifest kept in the collection's metadata; None where the collection does not exist."""
    if not client.collection_exists(location.collection):
        return None
    metadata = (client.get_collection(location.collection).config.metadata or {}).get(MANIFEST_KEY)
    if not isinstance(metadata, dict) or "model" not in metadata:
        raise NotAnIndex(f"{location.text}: collection {location.collection!r} was not made by docqa (no manifest "
                         "in its metadata); choose another collection")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(f"{location.text} has index format {metadata.get('format_version')}, this docqa reads "
                            f"{FORMAT_VERSION}; rebuild it: qa index PATH... --index {location.text} --rebuild")
    return Manifest.from_dict(metadata)


def _scroll(client: QdrantClient, collection: str, payload, scroll_filter=None, with_vectors=False) -> Iterator:
    offset = None
    while True:
        records, offset = client.scroll(collection, scroll_filter=scroll_filter, limit=512, offset=offset,
                                        with_payload=payload, with_vectors=with_vectors)
        yield from records
        if offset is None:
            return


def check_passages_recorded(client: QdrantClient, location: QdrantLocation) -> int:
    """The collection's passage count, refused where it is below what its complete documents record:
    lost points (an emptied local ``storage.sqlite``) would otherwise answer "no passage", and a build
    would find "nothing changed". A local store is small enough to sum every record; on a server only
    "documents but no passages at all" is checked, since summing millions of records would slow every open."""
    passages = client.count(location.collection, exact=True).count
    if location.path is None:
        recorded, damaged = "some", passages == 0 and client.count(location.documents_collection, exact=True).count > 0
    else:
        recorded = sum(record.payload["passages"] for record in
                       _scroll(client, location.documents_collection, ["passages", "state"])
                       if record.payload.get("state") == DocumentState.COMPLETE)
        damaged = passages < recorded
    if damaged:
        raise IndexCorrupt(f"{location.text} is damaged: its collection holds {passages} passages but its documents "
                           f"record {recorded}; rebuild it: qa index PATH... --index {location.text} --rebuild")
    return passages


def open_store(location: str) -> "QdrantStore":
    return QdrantStore(QdrantLocation.parse(location), current_settings().qdrant_api_key)


class QdrantStore:
    """Read access to a docqa collection, with ``IndexStore``'s calls; rows are point ids.

    >>> import tempfile
    >>> from index.builder import IndexBuilder
    >>> from ingest import BUNDLED_CORPUS
    >>> location = "qdrant+local:" + tempfile.mkdtemp()
    >>> with IndexBuilder(location, progress=False) as builder:
    ...     builder([BUNDLED_CORPUS]).documents
    5
    >>> store = open_store(location)
    >>> store.manifest.model, store.count_documents(), store.count_passages() > 20
    ('all-MiniLM-L6-v2', 5, True)
    >>> store.close()
    """

    def __init__(self, location: QdrantLocation, api_key: str | None = None):
        self.where = location
        not_found = IndexNotFound(f"no docqa index at {location.text}; build one with: qa index PATH --index {location.text}")
        if location.path is not None and not (Path(location.path) / "meta.json").is_file():
            raise not_found   # checked first: opening the local mode would create the folder
        self._snapshot: Path | None = None
        try:
            self.client = acquire(location, api_key)
        except BuildInProgress:
            if location.path is None:
                raise
            self.client, self._snapshot = snapshot_client(Path(location.path))
        try:
            manifest = read_manifest(self.client, location)
            if manifest is None:
                raise not_found
            passages = check_passages_recorded(self.client, location)
        except BaseException:
            self._release()
            raise
        self.manifest = replace(manifest, passages=passages)
        self._sentences: dict[str, np.ndarray | None] = {}
        self._refs: dict[str, tuple[Span, ...]] = {}
        self._scoped: list[ScopedDocument] | None = None
        self._scope_table: ScopeTable | None = None
        self._closed = False

    @property
    def location(self) -> str:
        return self.where.text

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._release()

    def _release(self) -> None:
        if self._snapshot is None:
            release(self.where)
        else:
            self.client.close()
            shutil.rmtree(self._snapshot, ignore_errors=True)

    def search(self, questions: Sequence[str], question_vectors: np.ndarray | None, k: int, mode: str,
               weights: tuple[float, float], scope: Scope | None = None) -> list[list[tuple[int, float]]]:
        """As ``IndexStore.search``; hybrid is fused in the engine (prefetch + weighted RRF); a
        ``scope`` is a payload filter on every prefetch and query (``index.stores.qdrant_filters``)."""
        depth = max(k, CANDIDATES)
        where = self.scope_filter(scope) if scope else None
        if where is NOTHING:
            return [[] for _ in questions]
        requests: list[models.QueryRequest | None] = []
        for number, question in enumerate(questions):
            sparse = bm25_query(question) if mode != "dense" else None
            dense = question_vectors[number].tolist() if mode != "bm25" else None
            if mode == "dense":
                requests.append(models.QueryRequest(query=dense, using=DENSE, limit=k, filter=where))
            elif mode == "bm25":
                requests.append(models.QueryRequest(query=sparse, using=SPARSE, limit=k, filter=where) if sparse else None)
            else:
                prefetch = [models.Prefetch(query=dense, using=DENSE, limit=depth, filter=where)]
                fusion_weights = [weights[0]]
                if sparse:
                    prefetch.append(models.Prefetch(query=sparse, using=SPARSE, limit=depth, filter=where))
                    fusion_weights.append(weights[1])
                requests.append(models.QueryRequest(
                    prefetch=prefetch, query=models.RrfQuery(rrf=models.Rrf(k=RRF_K, weights=fusion_weights)), limit=k,
                    filter=where))
        asked = [request for request in requests if request is not None]
        responses = iter(self.client.query_batch_points(self.where.collection, requests=asked) if asked else [])
        return [[(int(p.id), float(p.score)) for p in next(responses).points] if request is not None else []
                for request in requests]

    def scope_filter(self, scope: Scope) -> models.Filter:
        """``scope``'s payload filter, over the documents as they were when first asked (as a folder
        store's version, the store answers from what it opened; reopening it sees new documents)."""
        if self._scope_table is None:
            self._scope_table = ScopeTable.of(self.scoped_documents())
        return passage_filter(scope, self._scope_table)

    def scoped_documents(self) -> list[ScopedDocument]:
        """Every complete document as a scope reads it, read from the side collection once."""
        if self._scoped is None:
            self._scoped = [scoped_document(r.payload) for r in
                            _scroll(self.client, self.where.documents_collection, SCOPE_FIELDS)
                            if r.payload.get("state") == DocumentState.COMPLETE.value]
        return self._scoped

    def passages(self, rows: Sequence[int]) -> dict[int, StoredPassage]:
        if not rows:
            return {}
        stored = {}
        for record in self.client.retrieve(self.where.collection, ids=list(rows), with_payload=_HIT_FIELDS):
            payload = record.payload
            passage = passage_from_payload(payload)
            sentences = payload.get("sentences")
            self._remember_sentences(passage.passage_id, None if sentences is None
                                     else _decode_vectors(sentences, self.manifest.dimension))
            stored[int(record.id)] = StoredPassage(passage, payload["title"], payload["source"], payload["url"],
                                                   payload["published"])
        return stored

    def _remember_sentences(self, passage_id: str, vectors: np.ndarray | None) -> None:
        if len(self._sentences) > 1000:
            self._sentences = {}      # replaced, not cleared: another thread may be reading the old one
        self._sentences[passage_id] = vectors

    def sentence_vectors(self, passage_id: str) -> np.ndarray | None:
        """A passage's stored sentence vectors (kept from the ``passages`` call that fetched it)."""
        known = self._sentences.get(passage_id, _UNKNOWN)
        if known is not _UNKNOWN:
            return known
        records = self.client.retrieve(self.where.collection, ids=[point_id(passage_id)], with_payload=["sentences"])
        raw = records[0].payload.get("sentences") if records else None
        vectors = None if raw is None else _decode_vectors(raw, self.manifest.dimension)
        self._remember_sentences(passage_id, vectors)
        return vectors

    def labels(self, rows: Collection[int]) -> dict[int, tuple[str, str]]:
        records = self.client.retrieve(self.where.collection, ids=list(rows), with_payload=["passage_id", "source"])
        return {int(r.id): (r.payload["passage_id"], r.payload["source"]) for r in records}

    def row_labels(self) -> list[tuple[str, str]]:
        """``(passage_id, source)`` of every passage (the eval's random floor; reads them all)."""
        return [(r.payload["passage_id"], r.payload["source"])
                for r in _scroll(self.client, self.where.collection, ["passage_id", "source"])]

    def reference_urls(self, doc_id: str, start: int, end: int) -> tuple[str, ...]:
        if doc_id not in self._refs:
            records = self._document_records(doc_id, ["refs"])
            self._refs[doc_id] = spans_from_lists(records[0].payload["refs"]) if records else ()
        return labels_overlapping(self._refs[doc_id], start, end)

    def _document_records(self, doc_id: str, payload) -> list:
        return self.client.scroll(self.where.documents_collection, scroll_filter=_doc_filter([doc_id]), limit=1,
                                  with_payload=payload)[0]

    def count_documents(self) -> int:
        return self.client.count(self.where.documents_collection, exact=True).count

    def count_passages(self) -> int:
        return self.client.count(self.where.collection, exact=True).count

    def document_summaries(self) -> list[DocumentSummary]:
        records = _scroll(self.client, self.where.documents_collection, _SUMMARY_FIELDS)
        summaries = [DocumentSummary(p["doc_id"], p["title"], p["source"], p["format"], p["published"], p["passages"], p["path"])
                     for p in (r.payload for r in records)]
        return sorted(summaries, key=lambda s: (s.title.lower(), s.source))

    def document(self, doc_id: str) -> Document | None:
        records = self._document_records(doc_id, True)
        return document_from_record(records[0].payload) if records else None

    def origin(self, doc_id: str) -> DocumentOrigin | None:
        """Where a document's text is on disk (file, dump page, source map), without reading the text."""
        records = self._document_records(doc_id, ["path", "page", "format", "source_map"])
        if not records:
            return None
        record = records[0].payload
        return DocumentOrigin(record["path"], record["page"], record["format"],
                              marks_from_lists(record.get("source_map")))   # absent before source maps

    def documents(self) -> list[Document]:
        records = _scroll(self.client, self.where.documents_collection, True)
        return sorted((document_from_record(r.payload) for r in records), key=lambda d: d.key)

    def passages_of(self, doc_id: str) -> list[tuple[Passage, str]]:
        records = _scroll(self.client, self.where.collection, ["passage_id", "doc_id", "ordinal", "start", "end", "text",
                                                               "section", "urls", "page", "embed_key"], _doc_filter([doc_id]))
        return sorted(((passage_from_payload(r.payload), r.payload["embed_key"]) for r in records), key=lambda item: item[0].ordinal)

    def __enter__(self) -> "QdrantStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


