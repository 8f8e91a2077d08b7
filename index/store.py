"""The on-disk index: versioned folders swapped in atomically through a ``CURRENT`` file.

    INDEX_DIR/
      CURRENT                 name of the live version, replaced atomically
      v-<time>-<id>/          one complete, immutable version
        manifest.json         model, dimension, chunking, embedding backend, format version,
                              document and file hashes
        passages.sqlite       documents, and passages as char offsets into their document's text
        dense.faiss           FAISS index of passage embeddings, id = passage row
        bm25/                 bm25s index (npy + json)
      embeddings.sqlite       embedding cache keyed by model and text, survives interrupted builds
      models/                 the model exported for a backend that needs an export (OpenVINO)

Each text and each vector is stored once in a version (passage text is sliced from its
document at read time), plus once more in the embedding cache.

A build writes a new version beside the live one and only then repoints
``CURRENT``, so a build killed at any moment leaves the previous index intact.

docqa only ever deletes what it made: names of its own exact shape (``v-20240101T120000-1a2b3c4d``)
inside a folder that carries its ``.docqa-index`` marker, and only once ``CURRENT`` names a complete
live version. Opening checks every file against the manifest (row counts, dimension, a checksum of
the vectors) and refuses a damaged index with a one-line error instead of returning wrong passages.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Collection, Mapping, Sequence

import numpy as np

from index.fusion import CANDIDATES, reciprocal_rank_fusion
from index.sentence_vectors import SentenceVectors
from index.settings import RecordedSettings
from ingest.chunker import Chunking
from ingest.reader import file_digest
from index.scope import Scope, ScopedDocument, ScopeTable
from ingest.types import Document, Field, Passage, SourceMark, Span, labels_overlapping

if TYPE_CHECKING:   # imported where a version is searched: reading a manifest or counts needs neither FAISS nor bm25s
    from index.dense import DenseIndex
    from index.lexical import LexicalIndex

# 2: documents keep file path and page apart; the manifest carries row counts and a vectors checksum.
# 3: PDF pages (documents.pages, passages.page). Version 2 is still read: it has no PDFs.
# 4: each document's source map (documents.source_map): citations carry the file's lines. Versions
#    2 and 3 are still read, their citations without lines; a build over one reads every file again.
FORMAT_VERSION = 4
READABLE_VERSIONS = (2, 3, 4)
_CURRENT = "CURRENT"
MARKER = ".docqa-index"
_VERSION_NAME = re.compile(r"^v-\d{8}T\d{6}-[0-9a-f]{8}$")
_STAGING_NAME = re.compile(r"^\.tmp-" + _VERSION_NAME.pattern[1:])
_POINTER_NAME = re.compile(r"^\.CURRENT\.[0-9a-f]{8}$")
_VERSION_FILES = ("manifest.json", "passages.sqlite", "dense.faiss", "bm25")
# Inside an index folder: models exported for a backend (OpenVINO), shared by every version.
MODEL_EXPORTS = "models"
# Files up to this size are checked against their checksum on every open (16 MB hash in about 30 ms);
# larger ones by their size, and in full by `qa check`.
SMALL_FILE_BYTES = 16 * 1024 * 1024


class IndexStoreError(Exception):
    """Base for index problems the user can act on; the message says how."""


class IndexNotFound(IndexStoreError):
    pass


class IndexMismatch(IndexStoreError):
    pass


class IndexCorrupt(IndexStoreError):
    """A file of the index is missing, damaged or disagrees with the manifest."""


class NotAnIndex(IndexStoreError):
    """``--index`` points at a folder of the user's own files."""


class DiskFull(IndexStoreError):
    pass


class BuildInProgress(IndexStoreError):
    pass


class NothingToIndex(IndexStoreError):
    pass


class LinkInIndex(IndexStoreError):
    """A symbolic link inside an index folder: docqa would read or write through it, outside the folder."""


def _rebuild_hint(root: Path) -> str:
    return f"rebuild it: qa index PATH... --index {root} --rebuild"


def _repair_hint(root: Path) -> str:
    return f"run: qa index --repair --index {root} (or {_rebuild_hint(root)})"


def refuse_links(root: Path, version: Path | None = None) -> None:
    """``LinkInIndex`` for a symbolic link among the index folder's entries or a version's files: a
    linked ``embeddings.sqlite`` was written through into a foreign database. ``root`` itself may be one."""
    root = Path(root)
    entries = list(root.iterdir()) if root.is_dir() else []
    if version is not None and version.is_dir() and not version.is_symlink():
        entries += list(version.rglob("*"))
    for entry in entries:
        if entry.is_symlink():
            raise LinkInIndex(f"{entry} is a symbolic link; an index folder may hold none (docqa would write "
                              f"through it, outside {root}): remove it, or {_rebuild_hint(root)}")


PASSAGE_TEXT = "title\\nsection\\ntext"


@dataclass(frozen=True)
class EmbeddingRecord:
    """How an index's vectors were made: which backend made how many of them. Backends agree to a
    cosine of about 0.9999, so vectors are reused across backends (docs/benchmarks.md: "Embedding
    backends"), and an index that holds vectors of several says so.

    >>> EmbeddingRecord.of({"torch-fp32": 3, "torch-bf16": 1}, cpu="avx512").backend
    'torch-fp32'
    """

    backend: str
    passage_text: str = PASSAGE_TEXT
    normalized: bool = True
    precision: str = ""
    vectors_by_backend: dict[str, int] = field(default_factory=dict)
    mixed_backends: bool = False
    cpu: str = ""

    @classmethod
    def of(cls, made_by: Mapping[str, int], cpu: str = "") -> "EmbeddingRecord":
        main = max(made_by, key=made_by.get) if made_by else ""
        return cls(backend=main, precision=main.rpartition("-")[2], vectors_by_backend=dict(sorted(made_by.items())),
                   mixed_backends=len(made_by) > 1, cpu=cpu)

    @classmethod
    def from_dict(cls, data: Mapping) -> "EmbeddingRecord":
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    @property
    def made_by(self) -> str:
        """What made the vectors: ``a + b`` where several backends did."""
        return " + ".join(self.vectors_by_backend) or self.backend


@dataclass(frozen=True)
class Manifest:
    model: str
    dimension: int
    chunking: Chunking
    embedding: EmbeddingRecord
    dense_index: str
    documents: dict = field(default_factory=dict)
    passages: int = 0
    format_version: int = FORMAT_VERSION
    created: str = ""
    # sha256 and size in bytes of each file of the version, by its path inside it ("bm25/vocab.index.json").
    checksums: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)
    # sha256 of each file the documents came from: unchanged files are not read again.
    files: dict = field(default_factory=dict)
    # The settings the index was built with (none in an index built before they were recorded).
    settings: RecordedSettings | None = None

    @classmethod
    def from_dict(cls, data: Mapping) -> "Manifest":
        """A manifest from its JSON form (unknown fields are ignored); ``TypeError`` or ``KeyError``
        or ``ValueError`` where a field is malformed."""
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        fields["chunking"] = Chunking.from_dict(fields["chunking"])
        fields["embedding"] = EmbeddingRecord.from_dict(fields["embedding"])
        if fields.get("settings"):
            fields["settings"] = RecordedSettings.from_dict(fields["settings"])
        return cls(**fields)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        root = path.parent.parent
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise IndexCorrupt(f"{path} is missing; {_rebuild_hint(root)}") from None
        except (UnicodeDecodeError, ValueError) as error:
            raise IndexCorrupt(f"{path} is not valid JSON ({type(error).__name__}); {_rebuild_hint(root)}") from None
        if not isinstance(data, dict) or not data:
            raise IndexCorrupt(f"{path} holds no manifest (found {json.dumps(data)[:20]}); {_rebuild_hint(root)}")
        if data.get("format_version") not in READABLE_VERSIONS:
            raise IndexMismatch(
                f"{path.parent} has index format {data.get('format_version')}, this docqa reads {' and '.join(map(str, READABLE_VERSIONS))}; "
                f"{_rebuild_hint(root)} (unchanged passages reuse their cached embeddings)")
        missing = [name for name in ("model", "dimension", "chunking", "embedding", "dense_index")
                   if name not in data]
        if missing:
            raise IndexCorrupt(f"{path} lacks {', '.join(missing)}; {_rebuild_hint(root)}")
        try:
            return cls.from_dict(data)
        except (TypeError, KeyError, ValueError, AttributeError) as error:
            raise IndexCorrupt(f"{path} is malformed ({error}); {_rebuild_hint(root)}") from None


@dataclass(frozen=True)
class DocumentSummary:
    """What a list of an index's documents shows: no text."""

    doc_id: str
    title: str
    source: str
    format: str
    published: str
    passages: int
    path: str


@dataclass(frozen=True)
class DocumentOrigin:
    """Where a document's text is on disk: its file, its page in a dump, its format, and which
    lines (a Word file's paragraphs) each stretch of its text comes from (``ingest.types.SourceMark``)."""

    path: str
    page: str
    format: str
    source_map: tuple[SourceMark, ...]

    @classmethod
    def of(cls, document: Document) -> "DocumentOrigin":
        return cls(document.path, document.page, document.format, document.source_map)


@dataclass(frozen=True)
class StoredPassage:
    """A passage with the document fields a citation needs."""

    passage: Passage
    title: str
    source: str
    url: str
    published: str


_SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, key TEXT UNIQUE NOT NULL, path TEXT NOT NULL, page TEXT NOT NULL,
    source TEXT, title TEXT, format TEXT,
    url TEXT, published TEXT, content_hash TEXT, fields TEXT, text TEXT, sections TEXT, refs TEXT, pages TEXT,
    source_map TEXT);
CREATE TABLE passages (
    row INTEGER PRIMARY KEY, passage_id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL REFERENCES documents,
    ordinal INTEGER, start INTEGER, end INTEGER, section TEXT, urls TEXT, embed_key TEXT, page INTEGER);
CREATE INDEX passages_by_doc ON passages(doc_id);
CREATE INDEX documents_scope ON documents(doc_id, path, format, published, fields);
"""
# A scope reads every document's path, format, date and fields: ``documents_scope`` covers them, so
# that read never walks the texts' pages (100k documents: 1 s from the table, a tenth of it from the index).


# SQLite's substr counts characters (code points), as Python's slicing does.
_PASSAGE_TEXT = "substr(d.text, p.start + 1, p.end - p.start) AS text"


def span_lists(spans: Sequence[Span]) -> list[list]:
    """Spans as ``[start, end, label]`` lists, the form both stores keep them in."""
    return [[s.start, s.end, s.label] for s in spans]


def spans_from_lists(items) -> tuple[Span, ...]:
    return tuple(Span(*item) for item in items or ())


def mark_lists(marks: Sequence[SourceMark]) -> list[list[int]]:
    """A source map as ``[offset, first, last]`` lists, the form both stores keep it in."""
    return [[m.offset, m.first, m.last] for m in marks]


def marks_from_lists(items) -> tuple[SourceMark, ...]:
    return tuple(SourceMark(*item) for item in items or ())


def field_lists(fields: Sequence[Field]) -> list[list[str]]:
    """Front-matter fields as ``[name, value]`` lists, the form both stores keep them in."""
    return [[f.name, f.value] for f in fields]


def fields_from_lists(items) -> tuple[Field, ...]:
    return tuple(Field(*item) for item in items or ())


def _fields_json(fields: Sequence[Field]) -> str:
    return json.dumps(field_lists(fields), ensure_ascii=False)


def _spans_json(spans: Sequence[Span]) -> str:
    return json.dumps(span_lists(spans), ensure_ascii=False)


def _spans(raw: str) -> tuple[Span, ...]:
    return spans_from_lists(json.loads(raw))


def is_built_from(root: str | Path, folder: Path, chunking: Chunking, model: str) -> bool:
    """Whether the live version at ``root`` was made, in this format, with ``model`` and ``chunking``,
    from exactly the files under ``folder`` as they are now (the same paths, the same sha256), so a
    build of ``folder`` would change nothing: what a tool that keeps an index of a fixed corpus (the
    bundled one) checks on each start without loading the builder. False at any doubt (no index, a
    damaged one, a file more or less): the builder then decides.

    >>> import tempfile
    >>> from index.builder import IndexBuilder
    >>> from ingest import BUNDLED_CORPUS
    >>> folder = tempfile.mkdtemp()
    >>> is_built_from(folder, BUNDLED_CORPUS, Chunking(), "all-MiniLM-L6-v2")
    False
    >>> _ = IndexBuilder(folder, progress=False)([BUNDLED_CORPUS])
    >>> is_built_from(folder, BUNDLED_CORPUS, Chunking(), "all-MiniLM-L6-v2")
    True
    >>> is_built_from(folder, BUNDLED_CORPUS, Chunking(max_tokens=120), "all-MiniLM-L6-v2")
    False
    """
    try:
        version = current_version(Path(root))
        if version is None:
            return False
        manifest = Manifest.read(version / "manifest.json")
    except (IndexStoreError, OSError):
        return False
    if (manifest.format_version, manifest.model, manifest.chunking) != (FORMAT_VERSION, model, chunking):
        return False
    files = sorted(path for path in Path(folder).resolve().rglob("*") if path.is_file())
    if set(manifest.files) != {str(path) for path in files}:
        return False
    try:
        return all(file_digest(path) == manifest.files[str(path)] for path in files)
    except OSError:
        return False


def current_version(root: Path) -> Path | None:
    """The live version, or None where no index was ever built here.

    A ``CURRENT`` that names nothing usable, or versions without a ``CURRENT``, is an error, not
    "no index": a build must never start from empty and delete the intact versions beside it.
    """
    root = Path(root)
    pointer = root / _CURRENT
    try:
        name = pointer.read_bytes().decode("utf-8", errors="replace").strip()
    except FileNotFoundError:
        if complete_versions(root):
            raise IndexCorrupt(f"{root} has index versions but no CURRENT file; "
                               f"run: qa index --repair --index {root}") from None
        return None
    version = root / name
    if not _VERSION_NAME.match(name) or not is_complete_version(version):
        hint = (f"run: qa index --repair --index {root}" if complete_versions(root)
                else _rebuild_hint(root))
        missing = [f for f in _VERSION_FILES if not (version / f).exists()] if version.is_dir() and name else []
        problem = (f"{version} lacks {', '.join(missing)}" if missing
                   else f"{pointer} names {name[:60]!r}, which is not a complete index version")
        raise IndexCorrupt(f"{problem}; {hint}")
    return version


def is_complete_version(version: Path) -> bool:
    return version.is_dir() and all((version / name).exists() for name in _VERSION_FILES)


def complete_versions(root: Path) -> list[Path]:
    """docqa's own complete versions in ``root``, oldest first (names sort by time)."""
    if not root.is_dir():
        return []
    return sorted(child for child in root.iterdir() if _VERSION_NAME.match(child.name) and is_complete_version(child))


def repair(root: Path) -> Path:
    """Point ``CURRENT`` at the newest complete version that opens cleanly; returns it."""
    root = Path(root)
    for version in reversed(complete_versions(root)):
        try:
            IndexStore(root, version).close()
        except IndexStoreError:
            continue
        _point_current_at(root, version.name)
        return version
    raise IndexCorrupt(f"{root} holds no intact index version to repair from; {_rebuild_hint(root)}")


def claim_index_folder(root: Path) -> None:
    """Make ``root`` a docqa index folder, refusing a folder of someone else's files."""
    root = Path(root)
    refuse_links(root)
    if (root / MARKER).exists():
        return
    if root.exists():
        if not root.is_dir():
            raise NotAnIndex(f"{root} is a file, not an index folder; choose a new or empty folder for --index")
        foreign = [child.name for child in root.iterdir() if not _is_docqa_name(child.name)]
        if foreign and not (root / _CURRENT).exists():
            raise NotAnIndex(f"{root} is not empty and is not a docqa index (it holds {foreign[0]!r}); "
                             "choose a new or empty folder for --index")
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text(json.dumps({"docqa_index": True, "format_version": FORMAT_VERSION}) + "\n")


def _is_docqa_name(name: str) -> bool:
    return (name in {_CURRENT, MARKER, ".lock", "uploads", MODEL_EXPORTS} or name.startswith("embeddings.sqlite")
            or bool(_VERSION_NAME.match(name) or _STAGING_NAME.match(name) or _POINTER_NAME.match(name)))


def _connect_read_only(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    return connection


class IndexStore:
    """Read access to the live version of an index folder.

    >>> import tempfile
    >>> from index.builder import IndexBuilder
    >>> from ingest import BUNDLED_CORPUS
    >>> folder = tempfile.mkdtemp()
    >>> _ = IndexBuilder(folder, progress=False)([BUNDLED_CORPUS])
    >>> store = IndexStore.open(folder)
    >>> store.manifest.model, store.count_documents()
    ('all-MiniLM-L6-v2', 5)
    >>> store.close()

    ``searchable=False`` opens the manifest and SQLite only, as a build needs to learn what changed.
    """

    def __init__(self, root: Path, version: Path, searchable: bool = True):
        self.root = root
        self.version = version
        # One connection serves every thread; SQLite calls on it are serialised here.
        self._db_lock = threading.Lock()
        self._scope_lock = threading.Lock()
        self._scope_rows: dict[Scope, np.ndarray] = {}
        refuse_links(root, version)
        self.manifest = Manifest.read(version / "manifest.json")
        for problem in verify_files(version, self.manifest, SMALL_FILE_BYTES):
            raise IndexCorrupt(problem)
        # Loaded now, not lazily: a later build may delete this version's files.
        self.db = self._open_passages(version / "passages.sqlite")
        self.dense = self.lexical = self.sentences = None
        try:
            if searchable:
                self.dense = self._load_dense(version / "dense.faiss")
                self.lexical = self._load_lexical(version / "bm25")
                self.sentences = self._load_sentences(version)
        except IndexStoreError:
            self.db.close()
            raise

    @classmethod
    def open(cls, root: str | Path) -> "IndexStore":
        root = Path(root)
        for attempt in (1, 2):
            version = current_version(root)
            if version is None:
                raise IndexNotFound(f"no docqa index at {root}; build one with: qa index PATH --index {root}")
            try:
                return cls(root, version)
            except IndexCorrupt:
                # A build may have swapped in a new version and deleted this one while we read it.
                if attempt == 2 or current_version(root) == version:
                    raise
        raise AssertionError("unreachable")

    def _corrupt(self, path: Path, problem: str) -> IndexCorrupt:
        return IndexCorrupt(f"{path} {problem}; {_repair_hint(self.root)}")

    def _open_passages(self, path: Path) -> sqlite3.Connection:
        if not path.is_file():
            raise self._corrupt(path, "is missing")
        connection = _connect_read_only(path)
        try:
            passages = connection.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
            documents = connection.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        except sqlite3.DatabaseError as error:
            connection.close()
            raise self._corrupt(path, f"is damaged ({error})") from None
        expected_documents = len(self.manifest.documents)
        if passages != self.manifest.passages or documents != expected_documents:
            connection.close()
            raise self._corrupt(path, f"holds {passages} passages and {documents} documents, but the manifest "
                                      f"lists {self.manifest.passages} and {expected_documents}")
        return connection

    def _load_dense(self, path: Path) -> DenseIndex:
        from index.dense import DenseIndex

        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise self._corrupt(path, "is missing") from None
        expected = self.manifest.checksums.get("dense.faiss")
        if expected and hashlib.sha256(data).hexdigest() != expected:
            raise self._corrupt(path, "does not match its checksum in the manifest (truncated or altered)")
        try:
            dense = DenseIndex.from_bytes(data)
        except RuntimeError as error:
            raise self._corrupt(path, f"is not a readable FAISS index ({str(error).splitlines()[0][:80]})") from None
        if dense.index.d != self.manifest.dimension:
            raise self._corrupt(path, f"holds {dense.index.d}-dimensional vectors, the manifest says {self.manifest.dimension}")
        if len(dense) != self.manifest.passages:
            raise self._corrupt(path, f"holds {len(dense)} vectors for {self.manifest.passages} passages")
        return dense

    def _load_sentences(self, folder: Path) -> SentenceVectors | None:
        try:
            sentences = SentenceVectors.load(folder)
        except (OSError, ValueError, EOFError) as error:
            raise self._corrupt(folder / "sentences.npy", f"is damaged ({type(error).__name__})") from None
        if sentences is not None and (len(sentences.counts) != self.manifest.passages or (sentences.counts < 0).any()
                                      or sentences.vectors.shape[0] != int(sentences.counts.sum())):
            raise self._corrupt(folder / "sentence_counts.npy", "does not match the passages or sentences.npy")
        return sentences

    @property
    def location(self) -> str:
        """Where the index is, as ``--index`` takes it."""
        return str(self.root)

    def search(self, questions: Sequence[str], question_vectors: np.ndarray | None, k: int, mode: str,
               weights: tuple[float, float], scope: Scope | None = None) -> list[list[tuple[int, float]]]:
        """The top ``k`` ``(row, score)`` of each question: ``dense`` (needs ``question_vectors``),
        ``bm25``, or ``hybrid``, which fuses the top ``CANDIDATES`` of both with ``weights``; with a
        ``scope``, only the passages of the documents it allows are searched, by either index."""
        allowed = self.scope_rows(scope) if scope else None
        if allowed is not None and not len(allowed):
            return [[] for _ in questions]
        depth = max(k, CANDIDATES) if mode == "hybrid" else k
        dense = self.dense.search(question_vectors, depth, allowed) if mode != "bm25" else None
        lexical = self.lexical.search(questions, depth, allowed) if mode != "dense" else None
        if mode == "dense":
            return dense
        if mode == "bm25":
            return lexical
        return [reciprocal_rank_fusion((d, b), weights)[:k] for d, b in zip(dense, lexical)]

    def scoped_documents(self) -> list[ScopedDocument]:
        """Every document as a scope reads it (path, format, date, front-matter fields), read once:
        a version never changes once written."""
        if not hasattr(self, "_scoped"):
            fields = "fields" if "fields" in self._columns("documents") else "NULL AS fields"
            records = self._query(f"SELECT doc_id, path, format, published, {fields} FROM documents")
            self._scoped = [ScopedDocument(r["doc_id"], r["path"], r["format"] or "", r["published"] or "",
                                           fields_from_lists(json.loads(r["fields"] or "[]"))) for r in records]
        return self._scoped

    @property
    def records_fields(self) -> bool:
        """Whether this version kept the documents' front-matter fields (versions before ``--where`` did not)."""
        return "fields" in self._columns("documents")

    def _columns(self, table: str) -> set[str]:
        return {record["name"] for record in self._query(f"PRAGMA table_info({table})")}

    def scope_table(self) -> ScopeTable:
        """Every document's scope fields as columns, read once (a version never changes once written),
        with the document each passage row belongs to. The fields are flattened by SQLite's JSON
        functions, not decoded row by row: 100k documents load in well under a second."""
        if not hasattr(self, "_scope_table"):
            covered = "INDEXED BY documents_scope" if self._query(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'documents_scope'") else ""
            records = self._query(f"SELECT rowid, doc_id, path, format, published FROM documents {covered}")
            records.sort(key=lambda record: record[0])
            rowids = np.fromiter((r[0] for r in records), dtype=np.int64, count=len(records))
            fields = []
            if self.records_fields:
                fields = self._query(f"""SELECT d.rowid, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')
                                         FROM documents d {covered}, json_each(d.fields) j""")
            owners = np.searchsorted(rowids, np.fromiter((f[0] for f in fields), dtype=np.int64, count=len(fields)))
            self._scope_table = ScopeTable.from_columns(
                [r[1] for r in records], [r[2] for r in records], [r[3] or "" for r in records],
                [r[4] or "" for r in records],
                [(int(owner), str(f[1]), str(f[2])) for owner, f in zip(owners.tolist(), fields)])
            owner_rows = self._query("SELECT d.rowid FROM passages p JOIN documents d USING (doc_id) ORDER BY p.row")
            self._row_document = np.searchsorted(rowids, np.fromiter((r[0] for r in owner_rows), dtype=np.int64,
                                                                     count=len(owner_rows)))
        return self._scope_table

    def scope_rows(self, scope: Scope) -> np.ndarray:
        """The sorted rows of the passages of the documents ``scope`` allows (the last few scopes are kept)."""
        with self._scope_lock:
            if scope not in self._scope_rows:
                allowed = scope.mask(self.scope_table())
                if len(self._scope_rows) >= 16:
                    self._scope_rows.pop(next(iter(self._scope_rows)))
                self._scope_rows[scope] = np.flatnonzero(allowed[self._row_document]) if len(allowed) \
                    else np.zeros(0, np.int64)
            return self._scope_rows[scope]

    def labels(self, rows: Collection[int]) -> dict[int, tuple[str, str]]:
        """``{row: (passage_id, document source)}`` for search rows, from one read of all rows."""
        if not hasattr(self, "_labels"):
            self._labels = self.row_labels()
        return {row: self._labels[row] for row in rows}

    def sentence_vectors(self, passage_id: str) -> np.ndarray | None:
        """The stored sentence vectors of a passage (its ``split_sentences`` in order), or None
        where this version has none (built before they existed)."""
        if self.sentences is None:
            return None
        if not hasattr(self, "_row_of"):
            self._row_of = {pid: row for row, (pid, _) in enumerate(self.row_labels())}
        row = self._row_of.get(passage_id)
        return None if row is None else self.sentences.of_row(row)

    def _load_lexical(self, folder: Path) -> LexicalIndex:
        from index.lexical import LexicalIndex

        if not folder.is_dir():
            raise self._corrupt(folder, "is missing")
        try:
            lexical = LexicalIndex.load(folder)
            rows = int(lexical.retriever.scores["num_docs"])
        except Exception as error:  # bm25s raises whatever numpy or json raise on a damaged file
            raise self._corrupt(folder, f"is damaged ({type(error).__name__})") from None
        if rows != max(1, self.manifest.passages):
            raise self._corrupt(folder, f"indexes {rows} passages for {self.manifest.passages}")
        return lexical

    def close(self) -> None:
        """Release the version's files (SQLite handle, BM25 memory maps) so a deleted version's
        disk space comes back."""
        with self._db_lock:
            self.db.close()
        self.dense = self.lexical = None

    def _query(self, sql: str, parameters: Sequence = ()) -> list[sqlite3.Row]:
        with self._db_lock:
            return self.db.execute(sql, parameters).fetchall()

    def count_documents(self) -> int:
        return self._query("SELECT COUNT(*) FROM documents")[0][0]

    def count_passages(self) -> int:
        return self._query("SELECT COUNT(*) FROM passages")[0][0]

    def passages(self, rows: Sequence[int]) -> dict[int, StoredPassage]:
        if not rows:
            return {}
        marks = ",".join("?" * len(rows))
        query = f"""SELECT p.*, {_PASSAGE_TEXT}, d.title, d.source, d.url AS doc_url, d.published
                    FROM passages p JOIN documents d USING (doc_id) WHERE p.row IN ({marks})"""
        return {record["row"]: _stored_passage(record) for record in self._query(query, list(rows))}

    def reference_urls(self, doc_id: str, start: int, end: int) -> tuple[str, ...]:
        """URLs of the references that support text overlapping ``[start, end)`` of a document."""
        records = self._query("SELECT refs FROM documents WHERE doc_id = ?", (doc_id,))
        return labels_overlapping(_spans(records[0]["refs"]) if records else (), start, end)

    def row_labels(self) -> list[tuple[str, str]]:
        """``(passage_id, document source)`` of every row, in row order: maps search rows to ids cheaply."""
        query = "SELECT p.passage_id, d.source FROM passages p JOIN documents d USING (doc_id) ORDER BY p.row"
        return [(r[0], r[1]) for r in self._query(query)]

    def document_keys(self, doc_ids: Collection[str]) -> dict[str, str]:
        """``{doc_id: key}`` for those of ``doc_ids`` the index holds."""
        ids = list(doc_ids)
        records = self._query(f"SELECT doc_id, key FROM documents WHERE doc_id IN ({','.join('?' * len(ids))})", ids)
        return {record["doc_id"]: record["key"] for record in records}

    def document_summaries(self) -> list[DocumentSummary]:
        """Every document's id, title, source, format, date and passage count, without its text."""
        records = self._query("""SELECT d.doc_id, d.title, d.source, d.format, d.published, d.path,
                                        COUNT(p.row) AS passages
                                 FROM documents d LEFT JOIN passages p USING (doc_id)
                                 GROUP BY d.doc_id ORDER BY d.title COLLATE NOCASE, d.source""")
        return [DocumentSummary(r["doc_id"], r["title"], r["source"], r["format"], r["published"], r["passages"], r["path"])
                for r in records]

    def document(self, doc_id: str) -> Document | None:
        records = self._query("SELECT * FROM documents WHERE doc_id = ?", (doc_id,))
        return _document(records[0]) if records else None

    def origin(self, doc_id: str) -> DocumentOrigin | None:
        """Where a document's text is on disk (file, dump page, source map), without reading the text."""
        columns = "path, page, format" + (", source_map" if self.manifest.format_version >= 4 else "")
        records = self._query(f"SELECT {columns} FROM documents WHERE doc_id = ?", (doc_id,))
        if not records:
            return None
        record = records[0]
        return DocumentOrigin(record["path"], record["page"], record["format"],
                              marks_from_lists(json.loads(_column(record, "source_map", None) or "[]")))

    def document_paths(self) -> dict[str, str]:
        """Each document's key and the file it came from, without reading any text."""
        return {r["key"]: r["path"] for r in self._query("SELECT key, path FROM documents")}

    def documents(self) -> list[Document]:
        return [_document(record) for record in self._query("SELECT * FROM documents ORDER BY key")]

    def passages_of(self, doc_id: str) -> list[tuple[Passage, str]]:
        records = self._query(f"""SELECT p.*, {_PASSAGE_TEXT} FROM passages p JOIN documents d USING (doc_id)
                                  WHERE doc_id = ? ORDER BY ordinal""", (doc_id,))
        return [(_passage(r), r["embed_key"]) for r in records]


def _document(record: sqlite3.Row) -> Document:
    return Document(
        doc_id=record["doc_id"], path=record["path"], page=record["page"], source=record["source"], title=record["title"],
        text=record["text"], format=record["format"], content_hash=record["content_hash"],
        url=record["url"], published=record["published"],
        sections=_spans(record["sections"]), refs=_spans(record["refs"]), pages=_spans(_column(record, "pages", "[]")),
        source_map=marks_from_lists(json.loads(_column(record, "source_map", None) or "[]")),
        fields=fields_from_lists(json.loads(_column(record, "fields", None) or "[]")),
    )


def _passage(record: sqlite3.Row) -> Passage:
    return Passage(
        passage_id=record["passage_id"], doc_id=record["doc_id"], ordinal=record["ordinal"],
        start=record["start"], end=record["end"], text=record["text"], section=record["section"],
        urls=tuple(json.loads(record["urls"])), page=_column(record, "page", None),
    )


def _column(record: sqlite3.Row, name: str, default):
    """A column that a version-2 index does not have."""
    return record[name] if name in record.keys() else default


def _stored_passage(record: sqlite3.Row) -> StoredPassage:
    return StoredPassage(_passage(record), record["title"], record["source"], record["doc_url"], record["published"])


def write_version(root: Path, manifest: Manifest, documents: Sequence[Document],
                  passages: Sequence[tuple[Passage, str]], dense: DenseIndex, lexical: LexicalIndex,
                  sentences: SentenceVectors | None = None) -> Path:
    """Write a complete version next to the live one, then make it live atomically.

    A full disk leaves the live version as it was and raises ``DiskFull``.
    """
    claim_index_folder(root)
    name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    staging = root / f".tmp-{name}"
    try:
        staging.mkdir()
        dense.save(staging / "dense.faiss")
        lexical.save(staging / "bm25")
        if sentences is not None:
            sentences.save(staging)
        db = sqlite3.connect(staging / "passages.sqlite")
        try:
            db.executescript(_SCHEMA)
            db.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", [
                (d.doc_id, d.key, d.path, d.page, d.source, d.title, d.format, d.url, d.published, d.content_hash,
                 _fields_json(d.fields), d.text, _spans_json(d.sections), _spans_json(d.refs), _spans_json(d.pages),
                 json.dumps(mark_lists(d.source_map))) for d in documents])
            db.executemany("INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?)", [
                (row, p.passage_id, p.doc_id, p.ordinal, p.start, p.end, p.section,
                 json.dumps(list(p.urls)), key, p.page) for row, (p, key) in enumerate(passages)])
            db.commit()
        finally:
            db.close()
        written = {path.relative_to(staging).as_posix(): path for path in sorted(staging.rglob("*")) if path.is_file()}
        checksums = {name: file_digest(path) for name, path in written.items()}
        sizes = {name: path.stat().st_size for name, path in written.items()}
        complete = replace(manifest, passages=len(passages), checksums=checksums, sizes=sizes)
        (staging / "manifest.json").write_text(json.dumps(complete.to_dict(), indent=2, ensure_ascii=False))
        _fsync_tree(staging)
        version = root / name
        os.rename(staging, version)
    except (OSError, sqlite3.OperationalError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        if is_disk_full(error):
            raise DiskFull(f"no space left on the disk of {root} while writing a new version; "
                           "the live index is unchanged: free some space and rerun") from None
        raise
    _point_current_at(root, name)
    remove_stale_versions(root)
    return version


def verify_files(version: Path, manifest: Manifest, hash_up_to: int | None = None) -> list[str]:
    """One line per file of ``version`` that is missing, of another size or another checksum than
    the manifest records, each naming the file and the fix; files over ``hash_up_to`` bytes are
    checked by size only (``None``: every file in full, as ``qa check`` does).

    A version built before sizes were recorded has only ``dense.faiss``'s checksum, checked on load.
    """
    root = version.parent
    problems = []
    for name, size in sorted(manifest.sizes.items()):
        path = version / name
        try:
            actual = path.stat().st_size
        except FileNotFoundError:
            problems.append(f"{path} is missing; {_repair_hint(root)}")
            continue
        if actual != size:
            problems.append(f"{path} does not match its checksum in the manifest ({actual:,} bytes, {size:,} "
                            f"recorded: truncated or altered); {_repair_hint(root)}")
        elif (hash_up_to is None or size <= hash_up_to) and file_digest(path) != manifest.checksums.get(name):
            problems.append(f"{path} does not match its checksum in the manifest (altered); {_repair_hint(root)}")
    return problems


def check_index(root: str | Path) -> tuple[Path, list[str]]:
    """The live version of ``root`` and one line per problem in it: links, files that differ from
    their checksums (every byte of every file is read), rows that disagree with the manifest."""
    root = Path(root)
    version = current_version(root)
    if version is None:
        raise IndexNotFound(f"no docqa index at {root}; build one with: qa index PATH --index {root}")
    refuse_links(root, version)
    manifest = Manifest.read(version / "manifest.json")
    if not manifest.sizes:
        return version, [f"{version} was built before docqa recorded a checksum of every file; "
                         f"{_rebuild_hint(root)} to make it checkable"]
    problems = verify_files(version, manifest)
    if not problems:
        try:
            IndexStore(root, version).close()
        except IndexStoreError as error:
            problems.append(str(error))
    return version, problems


def _point_current_at(root: Path, name: str) -> None:
    pointer = root / f".{_CURRENT}.{uuid.uuid4().hex[:8]}"
    with open(pointer, "w") as handle:
        handle.write(name)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer, root / _CURRENT)
    _fsync_dir(root)


def is_disk_full(error: BaseException) -> bool:
    """True for the ways a full disk shows: ENOSPC or EDQUOT from the OS, SQLite's "disk is full"."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(error, sqlite3.Error) and "full" in str(error).lower()


def remove_stale_versions(root: Path) -> None:
    """Delete docqa's own versions that are no longer live, and leftovers of interrupted builds.

    Nothing is deleted unless ``CURRENT`` names a complete version: a broken pointer must never
    cost the versions it could be repaired from. Only names of docqa's exact shapes are touched.
    """
    try:
        live = current_version(root)
    except IndexStoreError:
        return
    if live is None or not (root / MARKER).exists():
        return
    for child in root.iterdir():
        stale_version = bool(_VERSION_NAME.match(child.name)) and child != live
        if stale_version or _STAGING_NAME.match(child.name) or _POINTER_NAME.match(child.name):
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
