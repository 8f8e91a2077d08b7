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
of it.
"""
from __future__ import annotations

import atexit
import base64
import hashlib
import json
import os
import pickle
import shutil
import sqlite3
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Collection, Iterable, Iterator, Sequence
from urllib.parse import parse_qsl, urlsplit

import numpy as np

try:
    from qdrant_client import QdrantClient, models
except ImportError as error:
    raise ImportError("a qdrant:// or qdrant+local: index needs the Qdrant client: pip install -e '.[scale]'") from error

from tqdm.auto import tqdm

from index.backends import AUTO
from index.builder import EMBED_BATCH, BuildInProgress, BuildReport, NothingToIndex, _should_prune
from index.backends.base import passage_embedding_text
from index.cache import embedding_key
from index.embedder import DEFAULT_MODEL, Embedder
from index.fusion import CANDIDATES, RRF_K
from index.lexical import STEMMER_LANGUAGE, STOPWORDS, tokenize
from index.sentence_vectors import passage_sentence_spans
from index.store import (
    FORMAT_VERSION, DocumentSummary, IndexCorrupt, IndexMismatch, IndexNotFound, IndexStoreError, Manifest, NotAnIndex,
    StoredPassage,
    field_lists, fields_from_lists, span_lists, spans_from_lists,
)
from index.scope import Scope, ScopedDocument, ScopeTable
from index.stores.qdrant_filters import NOTHING, SCOPE_FIELDS, passage_filter, scoped_document
from ingest.chunker import Chunker
from ingest.loader import DocumentLoader
from ingest.reader import DEFAULT_MAX_BYTES
from ingest.types import Document, IngestWarning, Passage, Span, labels_overlapping

DENSE = "dense"
SPARSE = "bm25"
MANIFEST_KEY = "docqa"
LOCAL_COLLECTION = "docqa"
DOCUMENTS_SUFFIX = "-documents"
# bm25s's defaults (method "lucene"), whose IDF is the one Qdrant's Modifier.IDF computes.
BM25_K1 = 1.5
BM25_B = 0.75
WRITE_BATCH = 256
# New passages embedded before their documents are written: a killed build loses at most these.
GROUP_PASSAGES = 256
# Payload fields a hit needs; the sentence vectors are fetched with them, for the answer.
_HIT_FIELDS = ["passage_id", "doc_id", "ordinal", "start", "end", "text", "section", "urls", "page",
               "title", "source", "url", "published", "sentences"]
_SUMMARY_FIELDS = ["doc_id", "title", "source", "format", "published", "passages", "path"]
WRITING, COMPLETE, REMOVING = "writing", "complete", "removing"
_UNKNOWN = object()


class EngineUnavailable(IndexStoreError):
    """The engine cannot be reached or refused the call."""


@dataclass(frozen=True)
class QdrantLocation:
    """Where a collection is: ``url`` for a server, ``path`` for local mode.

    >>> QdrantLocation.parse("qdrant://db.internal:6333/papers")
    QdrantLocation(text='qdrant://db.internal:6333/papers', url='http://db.internal:6333', path=None, collection='papers', shards=None, replicas=None)
    >>> QdrantLocation.parse("qdrant://db:6333/papers?https=1&shards=6&replicas=2").url
    'https://db:6333'
    >>> QdrantLocation.parse("qdrant+local:/tmp/q").collection
    'docqa'

    ``shards`` and ``replicas`` (query parameters) apply when docqa creates the collection on a
    cluster; without them the server's defaults do (one shard per node).
    """

    text: str
    url: str | None
    path: str | None
    collection: str
    shards: int | None = None
    replicas: int | None = None

    @classmethod
    def parse(cls, location: str) -> "QdrantLocation":
        if location.startswith("qdrant+local:"):
            path = location[len("qdrant+local:"):]
            if not path:
                raise ValueError("qdrant+local: needs a folder: --index qdrant+local:PATH")
            return cls(location, None, str(Path(path).expanduser().resolve()), LOCAL_COLLECTION)
        parts = urlsplit(location)
        collection = parts.path.strip("/")
        options = dict(parse_qsl(parts.query))
        unknown = set(options) - {"https", "shards", "replicas"}
        numbers = [options.get(name, "1") for name in ("shards", "replicas")]
        if (parts.scheme != "qdrant" or not parts.hostname or not collection or "/" in collection or unknown
                or not all(n.isdigit() and int(n) > 0 for n in numbers)):
            raise ValueError(f"{location!r} is not a Qdrant location; write qdrant://HOST:6333/COLLECTION "
                             "(options: ?https=1&shards=N&replicas=N) or qdrant+local:PATH")
        scheme = "https" if options.get("https") in {"1", "true", "yes"} else "http"
        return cls(location, f"{scheme}://{parts.hostname}:{parts.port or 6333}", None, collection,
                   int(options["shards"]) if "shards" in options else None,
                   int(options["replicas"]) if "replicas" in options else None)

    @property
    def documents_collection(self) -> str:
        return self.collection + DOCUMENTS_SUFFIX


# One client per location in a process: local mode locks its folder, so the UI's store and an
# upload's builder must share it.
_clients: dict[str, list] = {}
_clients_lock = threading.Lock()


def _acquire(location: QdrantLocation) -> QdrantClient:
    with _clients_lock:
        if location.text in _clients:
            _clients[location.text][1] += 1
            return _clients[location.text][0]
        client = _connect(location)
        _clients[location.text] = [client, 1]
        return client


@atexit.register
def _close_all() -> None:
    """Close what is still open while the interpreter can (a client's own ``__del__`` at exit cannot)."""
    with _clients_lock:
        for client, _ in _clients.values():
            client.close()
        _clients.clear()


def _release(location: QdrantLocation) -> None:
    with _clients_lock:
        entry = _clients.get(location.text)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del _clients[location.text]
            entry[0].close()


def _connect(location: QdrantLocation) -> QdrantClient:
    if location.path is not None:
        folder = Path(location.path)
        if folder.is_file():
            raise NotAnIndex(f"{folder} is a file, not a folder for qdrant+local")
        if folder.is_dir() and any(folder.iterdir()) and not (folder / "meta.json").exists():
            first = next(folder.iterdir()).name
            raise NotAnIndex(f"{folder} is not empty and is not a Qdrant local store (it holds {first!r}); "
                             "choose a new or empty folder for qdrant+local:")
        try:
            return QdrantClient(path=str(folder))
        except RuntimeError as error:
            if "already accessed" in str(error):
                raise BuildInProgress(f"{folder} is open in another process (a build, the UI or a server); "
                                      "Qdrant's local mode allows one at a time: wait for it, or use a Qdrant server") from None
            raise
        except (ValueError, KeyError, TypeError, AttributeError, sqlite3.DatabaseError, pickle.UnpicklingError,
                EOFError) as error:
            # The local mode reads meta.json and unpickles every point of storage.sqlite on open.
            raise IndexCorrupt(f"{_damaged_local_file(folder, error)}; remove {folder}, then rebuild it: "
                               f"qa index PATH... --index {location.text} --rebuild") from None
    client = QdrantClient(url=location.url, api_key=os.environ.get("QDRANT_API_KEY") or None, timeout=60)
    try:
        client.get_collections()
    except Exception as error:
        client.close()
        raise EngineUnavailable(f"cannot reach Qdrant at {location.url} ({type(error).__name__}: "
                                f"{' '.join(str(error).split())[:120]}); is the server running?") from None
    return client


def _snapshot_client(folder: Path) -> tuple[QdrantClient, Path]:
    """A client over a consistent copy of the local store at ``folder``, taken while another process
    (a build) holds it: each collection's SQLite file is copied with SQLite's backup API, which reads
    one committed state, so a reader answers from the last written state instead of being refused.
    Returns the client and the copy's folder, for the caller to close and remove."""
    copy = Path(tempfile.mkdtemp(prefix="docqa-qdrant-snapshot-"))
    try:
        shutil.copy2(folder / "meta.json", copy / "meta.json")
        for storage in folder.glob("collection/*/storage.sqlite"):
            target = copy / "collection" / storage.parent.name / storage.name
            target.parent.mkdir(parents=True)
            with sqlite3.connect(f"file:{storage}?mode=ro", uri=True) as source, sqlite3.connect(target) as copied:
                source.backup(copied)
        return QdrantClient(path=str(copy)), copy
    except BaseException:
        shutil.rmtree(copy, ignore_errors=True)
        raise


def _damaged_local_file(folder: Path, error: Exception) -> str:
    """Which file of a local store the client could not read, and how it is wrong."""
    if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
        return f"{folder / 'meta.json'} is not valid JSON"
    if isinstance(error, (sqlite3.DatabaseError, pickle.UnpicklingError, EOFError)):
        for storage in sorted(folder.rglob("storage.sqlite")):
            try:
                with sqlite3.connect(f"file:{storage}?mode=ro", uri=True) as db:
                    db.execute("SELECT COUNT(*) FROM points").fetchone()
            except sqlite3.DatabaseError:
                return f"{storage} is damaged ({type(error).__name__})"
        return f"a storage.sqlite under {folder} is damaged ({type(error).__name__})"
    return f"{folder / 'meta.json'} is not a Qdrant local store's ({type(error).__name__})"


def term_index(token: str) -> int:
    """A token's sparse dimension: a stable 32-bit hash, the same in every process."""
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "little")


def bm25_vectors(texts: Sequence[str], average_length: float) -> list[models.SparseVector | None]:
    """Each text's BM25 term weights as bm25s computes them (without the IDF, which the engine
    applies); None for a text with no tokens."""
    vectors = []
    for tokens in tokenize(texts):
        if not tokens:
            vectors.append(None)
            continue
        counts = Counter(tokens)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * len(tokens) / average_length)
        indices = [term_index(token) for token in counts]
        vectors.append(models.SparseVector(indices=indices, values=[tf / (tf + norm) for tf in counts.values()]))
    return vectors


def bm25_query(question: str) -> models.SparseVector | None:
    """A question's terms, each weighted by how often it occurs (as bm25s sums them)."""
    counts = Counter(tokenize([question])[0])
    if not counts:
        return None
    return models.SparseVector(indices=[term_index(t) for t in counts], values=[float(c) for c in counts.values()])


def point_id(key: str) -> int:
    """A passage's (or document's) point id: 60 bits of its id's sha256."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:15], 16)


def _encode_vectors(vectors: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(vectors, dtype=np.float16).tobytes()).decode("ascii")


def _decode_vectors(text: str, dimension: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float16).reshape(-1, dimension).astype(np.float32)


def document_record(document: Document) -> dict:
    """A document's fields as plain JSON values (``document_from_record`` reads them back)."""
    return {"doc_id": document.doc_id, "path": document.path, "page": document.page, "source": document.source,
            "title": document.title, "format": document.format, "url": document.url, "published": document.published,
            "content_hash": document.content_hash, "text": document.text, "sections": span_lists(document.sections),
            "refs": span_lists(document.refs), "pages": span_lists(document.pages),
            "fields": field_lists(document.fields)}


def document_from_record(record: dict) -> Document:
    return Document(
        doc_id=record["doc_id"], path=record["path"], page=record["page"], source=record["source"],
        title=record["title"], text=record["text"], format=record["format"], content_hash=record["content_hash"],
        url=record["url"], published=record["published"], sections=spans_from_lists(record["sections"]),
        refs=spans_from_lists(record["refs"]), pages=spans_from_lists(record["pages"]),
        fields=fields_from_lists(record.get("fields")))


def document_payload(document: Document, passages: int, file_digest: str, state: str) -> dict:
    """A document's record in the side collection: its fields, key, passage count, file digest and state."""
    return {**document_record(document), "key": document.key, "passages": passages, "file_digest": file_digest,
            "state": state}


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
    fields = {k: metadata[k] for k in Manifest.__dataclass_fields__ if k in metadata}
    return Manifest(**fields)


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
                       if record.payload.get("state") == COMPLETE)
        damaged = passages < recorded
    if damaged:
        raise IndexCorrupt(f"{location.text} is damaged: its collection holds {passages} passages but its documents "
                           f"record {recorded}; rebuild it: qa index PATH... --index {location.text} --rebuild")
    return passages


def open_store(location: str) -> "QdrantStore":
    return QdrantStore(QdrantLocation.parse(location))


class QdrantStore:
    """Read access to a docqa collection, with ``IndexStore``'s calls; rows are point ids.

    >>> import tempfile
    >>> from ingest import BUNDLED_CORPUS
    >>> location = "qdrant+local:" + tempfile.mkdtemp()
    >>> with Builder(location, progress=False) as builder:
    ...     builder([BUNDLED_CORPUS]).documents
    5
    >>> store = open_store(location)
    >>> store.manifest.model, store.count_documents(), store.count_passages() > 20
    ('all-MiniLM-L6-v2', 5, True)
    >>> store.close()
    """

    def __init__(self, location: QdrantLocation):
        self.where = location
        not_found = IndexNotFound(f"no docqa index at {location.text}; build one with: qa index PATH --index {location.text}")
        if location.path is not None and not (Path(location.path) / "meta.json").is_file():
            raise not_found   # checked first: opening the local mode would create the folder
        self._snapshot: Path | None = None
        try:
            self.client = _acquire(location)
        except BuildInProgress:
            if location.path is None:
                raise
            self.client, self._snapshot = _snapshot_client(Path(location.path))
        try:
            manifest = read_manifest(self.client, location)
            if manifest is None:
                raise not_found
            passages = check_passages_recorded(self.client, location)
        except BaseException:
            self._release()
            raise
        self.manifest = Manifest(**{**asdict(manifest), "passages": passages})
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
            _release(self.where)
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
                            if r.payload.get("state") == COMPLETE]
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


@dataclass(frozen=True)
class IndexedDocument:
    """What a build needs to know of a document already in the collection."""

    key: str
    doc_id: str
    path: str
    content_hash: str
    file_digest: str
    state: str


@dataclass(frozen=True)
class EmbeddedDocument:
    """A document ready to write: its passages, their vectors and sentence vectors."""

    document: Document
    passages: tuple[Passage, ...]
    embed_keys: tuple[str, ...]
    texts: tuple[str, ...]
    vectors: np.ndarray
    sentences: tuple[np.ndarray, ...]
    file_digest: str = ""


class Builder:
    """Create or update a docqa collection in Qdrant, with ``IndexBuilder``'s calls.

    Parameters are ``IndexBuilder``'s; ``index_type`` is ignored (the engine keeps its own HNSW).
    Documents are written in groups of about ``GROUP_PASSAGES`` new passages as they are embedded,
    so a killed build keeps what it finished.

    >>> import tempfile
    >>> from ingest import BUNDLED_CORPUS
    >>> with Builder("qdrant+local:" + tempfile.mkdtemp(), progress=False) as builder:
    ...     report = builder([BUNDLED_CORPUS])
    ...     again = builder([BUNDLED_CORPUS])
    >>> report.added_documents, report.passages, again.written
    (5, 24, False)
    """

    def __init__(self, location: str, model_name: str | None = None, max_tokens: int = 200, overlap_sentences: int = 1,
                 index_type: str = "auto", progress: bool = True, max_bytes: int = DEFAULT_MAX_BYTES,
                 rebuild: bool = False, embedder: Embedder | None = None, allow_download: bool = False,
                 backend: str = AUTO):
        self.where = QdrantLocation.parse(location)
        self.client = _acquire(self.where)
        try:
            self.manifest = read_manifest(self.client, self.where)   # refuses a collection docqa did not make
            # A rebuild drops the collections just before its first write, not now: a build that fails
            # to start (a model that will not load, say) must not cost the index.
            self._drop_first = rebuild
            if rebuild:
                self.manifest = None
            elif self.manifest:
                check_passages_recorded(self.client, self.where)
            indexed_model = self.manifest.model if self.manifest else None
            if indexed_model and model_name and model_name != indexed_model:
                raise IndexMismatch(f"{location} was built with {indexed_model!r}, not {model_name!r}; "
                                    "pass --rebuild to re-embed everything with the new model")
            model_name = model_name or indexed_model or DEFAULT_MODEL
            self.embedder = (embedder if embedder and embedder.model_name == model_name
                             else Embedder(model_name, allow_download=allow_download, backend=backend))
            self.chunker = Chunker(max_tokens, overlap_sentences, count_tokens=self.embedder.count_tokens)
            if self.manifest and self.manifest.chunking != self.chunker.settings:
                raise IndexMismatch(f"{location} was chunked with {self.manifest.chunking}, not {self.chunker.settings}; "
                                    "pass --rebuild to chunk and embed everything again")
        except BaseException:
            _release(self.where)
            raise
        self.progress = progress
        self.max_bytes = max_bytes
        self.requested_backend = backend
        self.loader = DocumentLoader(max_bytes=max_bytes)
        self._closed = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _release(self.where)

    def __enter__(self) -> "Builder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # What the collection holds.

    def indexed(self) -> dict[str, IndexedDocument]:
        if self.manifest is None:
            return {}
        fields = ["key", "doc_id", "path", "content_hash", "file_digest", "state"]
        return {p["key"]: IndexedDocument(*(p[f] for f in fields))
                for p in (r.payload for r in _scroll(self.client, self.where.documents_collection, fields))}

    def known_files(self, indexed: dict[str, IndexedDocument]) -> dict[str, str]:
        """Digests of files all of whose documents are completely written: those are not read again."""
        digests: dict[str, str] = {}
        incomplete = set()
        for document in indexed.values():
            if document.state != COMPLETE or not document.file_digest:
                incomplete.add(document.path)
            else:
                digests[document.path] = document.file_digest
        return {path: digest for path, digest in digests.items() if path not in incomplete}

    # Building.

    def __call__(self, paths: Sequence[str | Path], prune: bool = False, replace_copies: bool = False) -> BuildReport:
        """Add or update the documents under ``paths`` (``IndexBuilder.__call__``'s arguments)."""
        indexed = self.indexed()
        self.loader = DocumentLoader(max_bytes=self.max_bytes, known_files=self.known_files(indexed))
        started = time.perf_counter()
        loaded = list(tqdm(self.loader(paths), desc="reading", unit=" docs", disable=not self.progress))
        roots = [Path(p).resolve() for p in paths] if prune else None
        return self._build(loaded, indexed, roots, time.perf_counter() - started, replace_copies,
                           file_digests=self.loader.file_digests, unchanged_files=self.loader.unchanged_files,
                           warnings=tuple(self.loader.warnings))

    def build(self, loaded: Iterable[Document], prune_under: Sequence[Path] | None = None,
              warnings: tuple[IngestWarning, ...] = (), parse_seconds: float = 0.0) -> BuildReport:
        """Add or update already loaded documents."""
        return self._build(list(loaded), self.indexed(), prune_under, parse_seconds, warnings=warnings)

    def remove(self, doc_ids: Collection[str]) -> BuildReport:
        """Delete the documents ``doc_ids``; ``KeyError`` names one the collection lacks, and
        ``NothingToIndex`` refuses to remove them all."""
        indexed = self.indexed()
        by_id = {d.doc_id: d for d in indexed.values()}
        missing = set(doc_ids) - set(by_id)
        if missing:
            raise KeyError(sorted(missing)[0])
        if len(set(doc_ids)) >= len(indexed):
            raise NothingToIndex("no readable documents would be left, so the index was not changed")
        for doc_id in doc_ids:
            self._remove_document(by_id[doc_id])
        return self.report(indexed_after=len(indexed) - len(set(doc_ids)), removed=len(set(doc_ids)))

    def _build(self, loaded: list[Document], indexed: dict[str, IndexedDocument], prune_under, parse_seconds: float,
               replace_copies: bool = False, file_digests: dict[str, str] | None = None,
               unchanged_files: Collection[str] = (), warnings: tuple[IngestWarning, ...] = ()) -> BuildReport:
        timings = {"parse": parse_seconds}
        file_digests = file_digests or {}
        to_write = [d for d in loaded if self.needs_writing(d, indexed)]
        added = sum(1 for d in to_write if d.key not in indexed)
        removed = self.removals(indexed, {d.key for d in loaded}, {d.content_hash for d in loaded}, unchanged_files,
                                prune_under, replace_copies)
        remaining = len(set(indexed) - {d.key for d in removed} | {d.key for d in loaded})
        if not remaining:
            raise NothingToIndex("no readable documents were found, so no index was written")
        if not to_write and not removed:
            return self.report(len(indexed), warnings=warnings, seconds=timings, written=False)

        clock = time.perf_counter()
        chunked = [(document, self._chunk(document)) for document in
                   tqdm(to_write, desc="chunking", unit=" docs", disable=not self.progress or len(to_write) < 50)]
        timings["chunk"] = time.perf_counter() - clock
        clock = time.perf_counter()
        self.ensure_collection([text for _, chunks in chunked for _, _, text in chunks])
        embedded = 0
        for group in self._embed(chunked, indexed, file_digests):
            embedded += sum(made for _, made in group)
            self.write_documents([item for item, _ in group], indexed)
        self.remove_documents(removed)
        timings["embed+write"] = time.perf_counter() - clock
        passages = sum(len(p) for _, p in chunked)
        return self.report(remaining, added=added, changed=len(to_write) - added, removed=len(removed),
                           embedded=embedded, reused=passages - embedded, warnings=warnings, seconds=timings)

    @staticmethod
    def needs_writing(document: Document, indexed: dict[str, IndexedDocument]) -> bool:
        held = indexed.get(document.key)
        return held is None or held.state != COMPLETE or held.content_hash != document.content_hash

    @staticmethod
    def removals(indexed: dict[str, IndexedDocument], seen_keys: Collection[str], seen_hashes: Collection[str],
                 unchanged_files: Collection[str], prune_under: Sequence[Path] | None,
                 replace_copies: bool) -> list[IndexedDocument]:
        """The indexed documents a build drops, as ``IndexBuilder`` decides: gone from the pruned
        folders, copies of a document seen elsewhere (``replace_copies``), or half removed before."""
        copied = (set(seen_hashes) | {d.content_hash for d in indexed.values() if d.path in unchanged_files}
                  if replace_copies else set())
        return [d for key, d in indexed.items()
                if key not in seen_keys and d.path not in unchanged_files
                and (d.state == REMOVING or (prune_under is not None and _should_prune(d.path, prune_under))
                     or d.content_hash in copied)]

    def remove_documents(self, documents: Iterable[IndexedDocument]) -> None:
        for document in documents:
            self._remove_document(document)

    def report(self, indexed_after: int, added: int = 0, changed: int = 0, removed: int = 0, embedded: int = 0,
               reused: int = 0, warnings=(), seconds=None, written: bool = True, backend: str = "") -> BuildReport:
        """What a build did, with the collection's passage count now (``backend``: what embedded,
        where not this builder's own model, as with Ray's workers)."""
        passages = self.client.count(self.where.collection, exact=True).count if self.manifest else 0
        return BuildReport(index_dir=self.where.text, documents=indexed_after, passages=passages, embedded=embedded,
                           reused=reused, added_documents=added, changed_documents=changed, removed_documents=removed,
                           warnings=tuple(warnings), seconds=seconds or {}, written=written,
                           backend=backend or self.embedder.backend)

    def _chunk(self, document: Document) -> list[tuple[Passage, str, str]]:
        """``(passage, embedding key, embedded text)`` of each passage of a document."""
        chunks = []
        for passage in self.chunker(document):
            text = passage_embedding_text(document.title, passage.section, passage.text)
            chunks.append((passage, embedding_key(self.embedder.model_name, text), text))
        return chunks

    def _embed(self, chunked, indexed: dict[str, IndexedDocument],
               file_digests: dict[str, str]) -> Iterator[list[tuple[EmbeddedDocument, int]]]:
        """Groups of documents with about ``GROUP_PASSAGES`` new passages, each document with its
        vectors and how many of them were embedded now; vectors the collection already holds (the
        document's earlier version, or a killed build's part of it) are reused."""
        keys_written = {doc.key for doc, _ in chunked}
        reusable = self._stored_vectors([d.doc_id for d in indexed.values() if d.key in keys_written]
                                        + [doc.doc_id for doc, _ in chunked])
        total = len({key for _, chunks in chunked for _, key, _ in chunks if key not in reusable})
        with tqdm(total=total, desc="embedding", unit=" passages", disable=not self.progress or not total) as bar:
            group, new = [], 0
            for number, (document, chunks) in enumerate(chunked):
                group.append((document, chunks))
                new += sum(1 for _, key, _ in chunks if key not in reusable)
                if new >= GROUP_PASSAGES or number == len(chunked) - 1:
                    made = self._embed_missing([c for _, chunks in group for c in chunks], reusable)
                    bar.update(len(made))
                    vectors = {**reusable, **made}
                    yield [(self._embedded(document, chunks, vectors, file_digests.get(document.path, "")),
                            sum(1 for _, key, _ in chunks if key in made)) for document, chunks in group]
                    reusable.update(made)
                    group, new = [], 0

    def _embed_missing(self, chunks, reusable) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        missing = {key: (passage, text) for passage, key, text in chunks if key not in reusable}
        made = {}
        keys = list(missing)
        for offset in range(0, len(keys), EMBED_BATCH):
            batch = keys[offset:offset + EMBED_BATCH]
            texts = [missing[key][1] for key in batch]
            spans = [passage_sentence_spans(missing[key][1], missing[key][0].text) for key in batch]
            vectors, sentences = self.embedder.embed_with_spans(texts, spans)
            made.update(zip(batch, zip(vectors, sentences)))
        return made

    @staticmethod
    def _embedded(document: Document, chunks, vectors: dict, file_digest: str) -> EmbeddedDocument:
        keys = [key for _, key, _ in chunks]
        dimension = len(next(iter(vectors.values()))[0]) if vectors else 0
        return EmbeddedDocument(
            document, tuple(p for p, _, _ in chunks), tuple(keys), tuple(t for _, _, t in chunks),
            np.array([vectors[key][0] for key in keys], dtype=np.float32).reshape(len(keys), dimension),
            tuple(vectors[key][1] for key in keys), file_digest)

    def _stored_vectors(self, doc_ids: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if self.manifest is None or not doc_ids:
            return {}
        stored = {}
        for record in _scroll(self.client, self.where.collection, ["embed_key", "sentences"], _doc_filter(set(doc_ids)),
                              with_vectors=[DENSE]):
            stored[record.payload["embed_key"]] = (np.asarray(record.vector[DENSE], dtype=np.float32),
                                                   _decode_vectors(record.payload["sentences"], self.manifest.dimension))
        return stored

    def ensure_collection(self, texts: Sequence[str]) -> None:
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
        dimension = self.embedder.dimension
        manifest = Manifest(model=self.embedder.model_name, dimension=dimension, chunking=self.chunker.settings,
                            embedding={"passage_text": "title\\nsection\\ntext", "normalized": True,
                                       "backend": self.embedder.backend},
                            dense_index="qdrant", created=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        metadata = {**asdict(manifest), "bm25": {"k1": BM25_K1, "b": BM25_B, "average_length": max(1.0, average),
                                                 "stopwords": STOPWORDS, "stemmer": STEMMER_LANGUAGE,
                                                 "term_index": "blake2b-32"}}
        for name in ("documents", "files", "checksums", "sizes", "passages"):
            metadata.pop(name)
        cluster = dict(shard_number=self.where.shards, replication_factor=self.where.replicas)
        self.client.create_collection(
            self.where.collection, vectors_config={DENSE: models.VectorParams(size=dimension, distance=models.Distance.DOT)},
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

    def write_documents(self, items: Sequence[EmbeddedDocument], indexed: dict[str, IndexedDocument]) -> None:
        """Replace these documents' points (``indexed``: what the collection held before the build).
        Their records say ``writing`` until every point is in, so a build killed in between
        redoes them; a batch of documents is a few calls, not a few per document."""
        if not items:
            return
        record_ids = [point_id("document\0" + item.document.key) for item in items]
        self.client.upsert(self.where.documents_collection, [models.PointStruct(
            id=record_id, vector={}, payload=document_payload(item.document, len(item.passages), item.file_digest, WRITING))
            for record_id, item in zip(record_ids, items)])
        stale = {indexed[item.document.key].doc_id for item in items if item.document.key in indexed} - {
            item.document.doc_id for item in items}
        if stale:
            self.client.delete(self.where.collection, points_selector=models.FilterSelector(filter=_doc_filter(stale)))
        points = [point for item in items for point in self.points(item)]
        for offset in range(0, len(points), WRITE_BATCH):
            self.client.upsert(self.where.collection, points[offset:offset + WRITE_BATCH])
        self.client.set_payload(self.where.documents_collection, {"state": COMPLETE}, points=record_ids)

    def points(self, item: EmbeddedDocument) -> list[models.PointStruct]:
        """A document's points: vectors, BM25 terms and payload, as ``write_documents`` sends them."""
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

    def _remove_document(self, document: IndexedDocument) -> None:
        record_id = point_id("document\0" + document.key)
        self.client.set_payload(self.where.documents_collection, {"state": REMOVING}, points=[record_id])
        self.client.delete(self.where.collection, points_selector=models.FilterSelector(filter=_doc_filter([document.doc_id])))
        self.client.delete(self.where.documents_collection, points_selector=models.PointIdsList(points=[record_id]))
