"""Qdrant's ``IndexWriter``: what is Qdrant's own in a build (the collections' layout, the points,
the documents' states); what to write is the builder's (``index.builder``).

Documents are written in groups as they are embedded, so a killed build keeps what it finished;
a document's record says ``writing`` until every point is in.

>>> import tempfile
>>> from index.builder import IndexBuilder
>>> from ingest import BUNDLED_CORPUS
>>> with IndexBuilder("qdrant+local:" + tempfile.mkdtemp(), progress=False) as builder:
...     report = builder([BUNDLED_CORPUS])
...     again = builder([BUNDLED_CORPUS])
>>> report.added_documents, report.passages, again.written
(5, 24, False)
"""
from __future__ import annotations

import base64
from contextlib import nullcontext
from dataclasses import asdict
from functools import cached_property
from typing import Callable, Collection, Mapping, Sequence

import numpy as np

from index.contracts import DocumentState, EmbeddedDocument, IndexedDocument, StoredVector
from index.lexical import STEMMER_LANGUAGE, STOPWORDS, tokenize
from index.settings import Settings
from index.store import Manifest, NotAnIndex
from index.stores.qdrant import (
    DENSE, MANIFEST_KEY, SPARSE, _decode_vectors, _doc_filter, _scroll, check_passages_recorded, document_record,
    point_id, read_manifest,
)
from index.stores.qdrant_connection import EngineUnavailable, QdrantLocation, acquire, release
from index.stores.qdrant_sparse import BM25_B, BM25_K1, bm25_vectors
from ingest.types import Document, Passage
from qdrant_client import models

WRITE_BATCH = 256


def _encode_vectors(vectors: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(vectors, dtype=np.float16).tobytes()).decode("ascii")


def document_payload(document: Document, passages: int, file_digest: str, state: DocumentState) -> dict:
    """A document's record in the side collection: its fields, key, passage count, file digest and state."""
    return {**document_record(document), "key": document.key, "passages": passages, "file_digest": file_digest,
            "state": state.value}


def open_writer(location: str, settings: Settings, rebuild: bool = False) -> "QdrantWriter":
    return QdrantWriter(QdrantLocation.parse(location), settings.qdrant_api_key, rebuild)


class QdrantWriter:
    # Points are written in place: a collection holds one chunking, and other chunking is refused.
    rechunks = False

    def __init__(self, where: QdrantLocation, api_key: str | None = None, rebuild: bool = False):
        self.where = where
        self.location = where.text
        self.client = acquire(where, api_key)
        self._closed = False
        try:
            self.manifest: Manifest | None = read_manifest(self.client, where)   # refuses a collection docqa did not make
            # A rebuild drops the collections just before its first write, not now: a build that fails
            # to start (a model that will not load, say) must not cost the index.
            self._drop_first = rebuild
            if rebuild:
                self.manifest = None
            elif self.manifest:
                check_passages_recorded(self.client, where)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            release(self.where)

    def session(self):
        """The engine serialises writes itself; a build holds nothing more."""
        return nullcontext()

    def indexed(self) -> dict[str, IndexedDocument]:
        if self.manifest is None:
            return {}
        fields = ["key", "doc_id", "path", "content_hash", "file_digest", "state"]
        return {p["key"]: IndexedDocument(*(p[f] for f in fields[:-1]), DocumentState(p["state"]))
                for p in (r.payload for r in _scroll(self.client, self.where.documents_collection, fields))}

    def carried(self, kept: Collection[str]) -> list[tuple[Document, list[tuple[Passage, str]]]]:
        return []   # documents not written now keep their points

    def reusable(self, keys: Collection[str], doc_ids: Collection[str]) -> dict[str, StoredVector]:
        """The vectors of these documents' points: a changed document's earlier version, or what a
        killed build wrote of it."""
        if self.manifest is None or not doc_ids:
            return {}
        stored = {}
        backend = self.manifest.embedding.backend
        for record in _scroll(self.client, self.where.collection, ["embed_key", "sentences"], _doc_filter(set(doc_ids)),
                              with_vectors=[DENSE]):
            stored[record.payload["embed_key"]] = StoredVector(
                np.asarray(record.vector[DENSE], dtype=np.float32),
                _decode_vectors(record.payload["sentences"], self.manifest.dimension), backend)
        return stored

    def keep(self, keys: Sequence[str], vectors: np.ndarray, sentences: Sequence[np.ndarray], backend: str) -> None:
        """Nothing to keep apart: the points hold the vectors once written."""

    def begin(self, new_manifest: Callable[[], Manifest], texts: Sequence[str]) -> None:
        """Make the two collections and write the manifest on the first build: BM25's average
        passage length is that of ``texts``, the first build's passages, from then on."""
        if self.manifest is not None:
            return
        if self._drop_first:
            for name in (self.where.collection, self.where.documents_collection):
                if self.client.collection_exists(name):
                    self.client.delete_collection(name)
            self._drop_first = False
        lengths = [len(tokens) for tokens in tokenize(texts)]
        average = sum(lengths) / max(1, len(lengths))
        manifest = new_manifest()
        metadata = {**asdict(manifest), "dense_index": "qdrant",
                    "bm25": {"k1": BM25_K1, "b": BM25_B, "average_length": max(1.0, average), "stopwords": STOPWORDS,
                             "stemmer": STEMMER_LANGUAGE, "term_index": "blake2b-32"}}
        for name in ("documents", "files", "checksums", "sizes", "passages"):
            metadata.pop(name)
        cluster = dict(shard_number=self.where.shards, replication_factor=self.where.replicas)
        self.client.create_collection(
            self.where.collection,
            vectors_config={DENSE: models.VectorParams(size=manifest.dimension, distance=models.Distance.DOT)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            metadata={MANIFEST_KEY: metadata}, **cluster)
        self.client.create_collection(self.where.documents_collection, vectors_config={}, **cluster)
        if self.where.url:
            for collection in (self.where.collection, self.where.documents_collection):
                self.client.create_payload_index(collection, "doc_id", models.PayloadSchemaType.KEYWORD)
        try:
            self.manifest = read_manifest(self.client, self.where)
        except NotAnIndex:
            for collection in (self.where.collection, self.where.documents_collection):
                self.client.delete_collection(collection)
            raise EngineUnavailable(f"the Qdrant server at {self.where.url} did not keep the collection's metadata, "
                                    "where docqa keeps its manifest; upgrade it (collection metadata came with Qdrant 1.16)") from None

    @cached_property
    def average_length(self) -> float:
        """BM25's average passage length, fixed in the manifest when the collection was made."""
        metadata = self.client.get_collection(self.where.collection).config.metadata[MANIFEST_KEY]
        return float(metadata["bm25"]["average_length"])

    def write(self, items: Sequence[EmbeddedDocument], indexed: Mapping[str, IndexedDocument]) -> None:
        """Replace these documents' points (``indexed``: what the collection held before the build).
        Their records say ``writing`` until every point is in, so a build killed in between
        redoes them; a batch of documents is a few calls, not a few per document."""
        if not items:
            return
        record_ids = [point_id("document\0" + item.document.key) for item in items]
        self.client.upsert(self.where.documents_collection, [models.PointStruct(
            id=record_id, vector={},
            payload=document_payload(item.document, len(item.passages), item.file_digest, DocumentState.WRITING))
            for record_id, item in zip(record_ids, items)])
        stale = {indexed[item.document.key].doc_id for item in items if item.document.key in indexed} - {
            item.document.doc_id for item in items}
        if stale:
            self.client.delete(self.where.collection, points_selector=models.FilterSelector(filter=_doc_filter(stale)))
        points = [point for item in items for point in self.points(item)]
        for offset in range(0, len(points), WRITE_BATCH):
            self.client.upsert(self.where.collection, points[offset:offset + WRITE_BATCH])
        self.client.set_payload(self.where.documents_collection, {"state": DocumentState.COMPLETE.value}, points=record_ids)

    def points(self, item: EmbeddedDocument) -> list[models.PointStruct]:
        """A document's points: vectors, BM25 terms and payload, as ``write`` sends them."""
        document = item.document
        points = []
        for passage, key, vector, sentences, terms in zip(item.passages, item.embed_keys, item.vectors, item.sentences,
                                                          bm25_vectors(item.texts, self.average_length)):
            vectors = {DENSE: vector.tolist(), **({SPARSE: terms} if terms is not None else {})}
            points.append(models.PointStruct(id=point_id(passage.passage_id), vector=vectors, payload={
                "passage_id": passage.passage_id, "doc_id": passage.doc_id, "ordinal": passage.ordinal,
                "start": passage.start, "end": passage.end, "text": passage.text, "section": passage.section,
                "urls": list(passage.urls), "page": passage.page, "title": document.title, "source": document.source,
                "url": document.url, "published": document.published, "embed_key": key,
                "sentences": _encode_vectors(sentences)}))
        return points

    def remove(self, documents: Sequence[IndexedDocument]) -> None:
        for document in documents:
            record_id = point_id("document\0" + document.key)
            self.client.set_payload(self.where.documents_collection, {"state": DocumentState.REMOVING.value},
                                    points=[record_id])
            self.client.delete(self.where.collection,
                               points_selector=models.FilterSelector(filter=_doc_filter([document.doc_id])))
            self.client.delete(self.where.documents_collection, points_selector=models.PointIdsList(points=[record_id]))

    def up_to_date(self, file_digests: Mapping[str, str], removed_keys: Collection[str]) -> bool:
        return True   # no document to write or remove: the points are what this build would write

    def commit(self, manifest: Manifest | None, file_digests: Mapping[str, str]) -> None:
        """Nothing left to do: every group was written as it was embedded."""

    def count_passages(self) -> int:
        return self.client.count(self.where.collection, exact=True).count if self.manifest else 0

    def __enter__(self) -> "QdrantWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
