"""The on-disk index: versioned folders swapped in atomically through a ``CURRENT`` file.

    INDEX_DIR/
      CURRENT                 name of the live version, replaced atomically
      v-<time>-<id>/          one complete, immutable version
        manifest.json         model, dimension, chunking, format version, document hashes
        passages.sqlite       documents, and passages as char offsets into their document's text
        dense.faiss           FAISS index of passage embeddings, id = passage row
        bm25/                 bm25s index (npy + json)
      embeddings.sqlite       embedding cache keyed by model and text, survives interrupted builds

Each text and each vector is stored once in a version (passage text is sliced from its
document at read time), plus once more in the embedding cache.

A build writes a new version beside the live one and only then repoints
``CURRENT``, so a build killed at any moment leaves the previous index intact.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from index.dense import DenseIndex
from index.lexical import LexicalIndex
from ingest.types import Document, Passage, Span, labels_overlapping

FORMAT_VERSION = 1
_CURRENT = "CURRENT"


class IndexStoreError(Exception):
    """Base for index problems the user can act on; the message says how."""


class IndexNotFound(IndexStoreError):
    pass


class IndexMismatch(IndexStoreError):
    pass


@dataclass(frozen=True)
class Manifest:
    model: str
    dimension: int
    chunking: dict
    embedding: dict
    dense_index: str
    documents: dict = field(default_factory=dict)
    passages: int = 0
    format_version: int = FORMAT_VERSION
    created: str = ""

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        data = json.loads(path.read_text())
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexMismatch(
                f"{path.parent} has index format {data.get('format_version')}, this docqa reads {FORMAT_VERSION}; "
                "rebuild it with: qa index PATH --rebuild")
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


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
    doc_id TEXT PRIMARY KEY, path TEXT UNIQUE NOT NULL, source TEXT, title TEXT, format TEXT,
    url TEXT, published TEXT, content_hash TEXT, text TEXT, sections TEXT, refs TEXT);
CREATE TABLE passages (
    row INTEGER PRIMARY KEY, passage_id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL REFERENCES documents,
    ordinal INTEGER, start INTEGER, end INTEGER, section TEXT, urls TEXT, embed_key TEXT);
CREATE INDEX passages_by_doc ON passages(doc_id);
"""


# SQLite's substr counts characters (code points), as Python's slicing does.
_PASSAGE_TEXT = "substr(d.text, p.start + 1, p.end - p.start) AS text"


def _spans_json(spans: Sequence[Span]) -> str:
    return json.dumps([[s.start, s.end, s.label] for s in spans], ensure_ascii=False)


def _spans(raw: str) -> tuple[Span, ...]:
    return tuple(Span(*item) for item in json.loads(raw))


def current_version(root: Path) -> Path | None:
    pointer = root / _CURRENT
    if not pointer.exists():
        return None
    version = root / pointer.read_text().strip()
    return version if (version / "manifest.json").exists() else None


def _connect_read_only(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    return connection


class IndexStore:
    """Read access to the live version of an index folder.

    >>> store = IndexStore.open("path/to/index")          # doctest: +SKIP
    >>> store.manifest.model, store.count_documents()      # doctest: +SKIP
    ('all-MiniLM-L6-v2', 5)
    """

    def __init__(self, root: Path, version: Path):
        self.root = root
        self.version = version
        self.manifest = Manifest.read(version / "manifest.json")
        self.db = _connect_read_only(version / "passages.sqlite")
        # Loaded now, not lazily: a later build may delete this version's files.
        self.dense = DenseIndex.load(version / "dense.faiss")
        self.lexical = LexicalIndex.load(version / "bm25")

    @classmethod
    def open(cls, root: str | Path) -> "IndexStore":
        root = Path(root)
        version = current_version(root)
        if version is None:
            raise IndexNotFound(f"no docqa index at {root}; build one with: qa index PATH --index {root}")
        return cls(root, version)

    def close(self) -> None:
        self.db.close()

    def count_documents(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    def count_passages(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]

    def passages(self, rows: Sequence[int]) -> dict[int, StoredPassage]:
        if not rows:
            return {}
        marks = ",".join("?" * len(rows))
        query = f"""SELECT p.*, {_PASSAGE_TEXT}, d.title, d.source, d.url AS doc_url, d.published
                    FROM passages p JOIN documents d USING (doc_id) WHERE p.row IN ({marks})"""
        return {record["row"]: _stored_passage(record) for record in self.db.execute(query, list(rows))}

    def reference_urls(self, doc_id: str, start: int, end: int) -> tuple[str, ...]:
        """URLs of the references that support text overlapping ``[start, end)`` of a document."""
        record = self.db.execute("SELECT refs FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return labels_overlapping(_spans(record["refs"]) if record else (), start, end)

    def row_labels(self) -> list[tuple[str, str]]:
        """``(passage_id, document source)`` of every row, in row order: maps search rows to ids cheaply."""
        query = "SELECT p.passage_id, d.source FROM passages p JOIN documents d USING (doc_id) ORDER BY p.row"
        return [(r[0], r[1]) for r in self.db.execute(query)]

    def documents(self) -> Iterable[Document]:
        for record in self.db.execute("SELECT * FROM documents ORDER BY path"):
            yield _document(record)

    def passages_of(self, doc_id: str) -> list[tuple[Passage, str]]:
        records = self.db.execute(f"""SELECT p.*, {_PASSAGE_TEXT} FROM passages p JOIN documents d USING (doc_id)
                                      WHERE doc_id = ? ORDER BY ordinal""", (doc_id,))
        return [(_passage(r), r["embed_key"]) for r in records]


def _document(record: sqlite3.Row) -> Document:
    return Document(
        doc_id=record["doc_id"], path=record["path"], source=record["source"], title=record["title"],
        text=record["text"], format=record["format"], content_hash=record["content_hash"],
        url=record["url"], published=record["published"],
        sections=_spans(record["sections"]), refs=_spans(record["refs"]),
    )


def _passage(record: sqlite3.Row) -> Passage:
    return Passage(
        passage_id=record["passage_id"], doc_id=record["doc_id"], ordinal=record["ordinal"],
        start=record["start"], end=record["end"], text=record["text"], section=record["section"],
        urls=tuple(json.loads(record["urls"])),
    )


def _stored_passage(record: sqlite3.Row) -> StoredPassage:
    return StoredPassage(_passage(record), record["title"], record["source"], record["doc_url"], record["published"])


def write_version(root: Path, manifest: Manifest, documents: Sequence[Document],
                  passages: Sequence[tuple[Passage, str]], dense: DenseIndex, lexical: LexicalIndex) -> Path:
    """Write a complete version next to the live one, then make it live atomically."""
    root.mkdir(parents=True, exist_ok=True)
    name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    staging = root / f".tmp-{name}"
    staging.mkdir()
    (staging / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2, ensure_ascii=False))
    dense.save(staging / "dense.faiss")
    lexical.save(staging / "bm25")
    db = sqlite3.connect(staging / "passages.sqlite")
    db.executescript(_SCHEMA)
    db.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?)", [
        (d.doc_id, d.path, d.source, d.title, d.format, d.url, d.published, d.content_hash, d.text,
         _spans_json(d.sections), _spans_json(d.refs)) for d in documents])
    db.executemany("INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?)", [
        (row, p.passage_id, p.doc_id, p.ordinal, p.start, p.end, p.section,
         json.dumps(list(p.urls)), key) for row, (p, key) in enumerate(passages)])
    db.commit()
    db.close()
    _fsync_tree(staging)
    version = root / name
    os.rename(staging, version)
    pointer = root / f".{_CURRENT}.{uuid.uuid4().hex[:8]}"
    with open(pointer, "w") as handle:
        handle.write(name)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer, root / _CURRENT)
    _fsync_dir(root)
    remove_stale_versions(root)
    return version


def remove_stale_versions(root: Path) -> None:
    """Delete versions no longer live and staging folders of interrupted builds."""
    live = current_version(root)
    for child in root.iterdir():
        stale_version = child.name.startswith("v-") and child != live
        if (stale_version or child.name.startswith(".tmp-") or child.name.startswith(f".{_CURRENT}.")):
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
