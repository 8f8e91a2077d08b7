"""One live index that many people ask and change at once: the state behind the web UI and the
REST API (questions, the document list, uploads and removals)."""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence

from index.builder import NothingToIndex, make_builder
from index.embedder import ModelUnavailable, docqa_cache, model_slug
from index.store import DocumentSummary, IndexStoreError
from index.stores import engine_scheme, open_store
from ingest.types import Document, IngestWarning, WarningKind
from qa.api import QA, IndexStats, Where
from qa.followup import Turn
from qa.types import Answer

DEFAULT_MAX_UPLOAD_MB = 100
UPLOADS = "uploads"
PENDING = ".pending"      # in a batch folder while its upload is not indexed yet; holds the writer's pid
_CHUNK = 1 << 20
_OUR_BATCHES: set[Path] = set()   # this process's pending batches (a container restarts with the same pid)


@dataclass(frozen=True)
class IncomingFile:
    """An uploaded file still being received: the name it is to keep and its bytes."""

    name: str
    stream: BinaryIO


@dataclass(frozen=True)
class Recovery:
    """What opening a library did about uploads a killed process left half done: files whose
    build had finished are ``kept``; files never indexed are ``rolled_back`` (deleted)."""

    kept: int = 0
    rolled_back: int = 0

    def __bool__(self) -> bool:
        return bool(self.kept or self.rolled_back)

    def message(self) -> str:
        return (f"an interrupted upload was cleaned up: {self.rolled_back} file(s) that were never indexed "
                f"removed, {self.kept} indexed file(s) kept")


@dataclass(frozen=True)
class Duplicate:
    """An upload whose bytes an indexed document (or an earlier file of the same upload) already
    has: it is not indexed again; ``indexed_as`` is the name it is indexed under."""

    name: str
    indexed_as: str


@dataclass(frozen=True)
class UploadReport:
    """What adding files did: documents added and changed, passages embedded; ``refused`` names
    each file not indexed (by the name it was given) and why, and ``refused_files`` are those of
    the given paths, which a caller may delete (the UI removes Gradio's temporary copies);
    ``error`` says why nothing at all was added; ``duplicates`` were already indexed."""

    added: int
    changed: int
    embedded: int
    refused: tuple[IngestWarning, ...] = ()
    refused_files: tuple[Path, ...] = ()
    error: str = ""
    duplicates: tuple[Duplicate, ...] = ()


def uploads_root(location: str | Path) -> Path:
    """The folder whose ``uploads/`` keeps an index's uploaded files: the index folder itself, the
    local mode's folder, or one in the user's cache for a server."""
    scheme = engine_scheme(location)
    if scheme is None:
        return Path(location)
    if scheme == "qdrant+local":
        return Path(str(location).partition(":")[2]).expanduser().resolve()
    return docqa_cache() / "uploads" / model_slug(str(location))


class DocumentLibrary:
    """An index folder opened for questions, listing, uploads and removals, all thread-safe.

    Questions run concurrently; each holds the index version it started on, and a version
    replaced by an upload or a removal is closed once its last question is done. Changes are
    made one at a time.

    >>> import shutil, tempfile
    >>> from qa.api import default_qa
    >>> folder = tempfile.mkdtemp()
    >>> _ = shutil.copytree(default_qa().store.root, folder, dirs_exist_ok=True)
    >>> library = DocumentLibrary(folder, QA(open_store(folder), default_qa().embedder))
    >>> sorted(d.format for d in library.documents())
    ['frontmatter', 'frontmatter', 'text', 'text', 'wikitext']
    >>> library.ask("When was SenseTime founded?").short
    'October 2014'

    Parameters:
        index_dir: the index folder, or a vector database's location (``index.stores``). Uploads
            are kept in the folder's ``uploads/`` (for ``qdrant+local:PATH``, in ``PATH/uploads``;
            for a server, in ``docqa_cache()/uploads/<location>``).
        qa: the ``QA`` open on it (its embedder also embeds uploads).
        max_upload_mb: larger files are refused.
    """

    def __init__(self, index_dir: str | Path, qa: QA, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB):
        self.location = index_dir
        self.index_dir = uploads_root(index_dir)
        self.qa = qa
        self.max_upload_mb = max_upload_mb
        self.max_upload_bytes = int(max_upload_mb * 1024 * 1024)
        self._build_lock = threading.Lock()
        self._swap_lock = threading.Lock()
        self._in_flight: Counter[int] = Counter()
        self.recovery = self.recover_interrupted_uploads()

    def recover_interrupted_uploads(self) -> Recovery:
        """Finish or roll back the uploads of a process that died mid-way (kill -9, power loss):
        a batch folder still marked pending by a process that is gone keeps the files the index
        holds and loses the others. Batches of a live process (another server) are left alone."""
        held = {Path(d.path).resolve() for d in self.documents()}
        kept = rolled_back = 0
        for marker in sorted((self.index_dir / UPLOADS).glob(f"*/{PENDING}")):
            if marker.parent in _OUR_BATCHES or _alive(marker.read_text().strip()):
                continue
            for file in marker.parent.iterdir():
                if file == marker:
                    continue
                if file.resolve() in held:
                    kept += 1
                else:
                    file.unlink() if not file.is_dir() else shutil.rmtree(file)
                    rolled_back += 1
            marker.unlink()
            if not any(marker.parent.iterdir()):
                marker.parent.rmdir()
        return Recovery(kept, rolled_back)

    @contextmanager
    def current(self) -> Iterator[QA]:
        """The live index for one request; a version swapped out meanwhile closes when its last request ends."""
        with self._swap_lock:
            qa = self.qa
            self._in_flight[id(qa)] += 1
        try:
            yield qa
        finally:
            with self._swap_lock:
                self._in_flight[id(qa)] -= 1
                if qa is not self.qa and self._in_flight[id(qa)] <= 0:
                    del self._in_flight[id(qa)]
                    qa.close()

    def _swap(self, new: QA) -> None:
        with self._swap_lock:
            old, self.qa = self.qa, new
            if self._in_flight[id(old)] <= 0:
                self._in_flight.pop(id(old), None)
                old.close()

    def ask(self, question: str, k: int = 5, mode: str | None = None,
            history: Sequence[Turn | str] | None = None, where: Where = None) -> Answer:
        with self.current() as qa:
            return qa.ask(question, k=k, mode=mode, history=history, where=where)

    def stats(self) -> IndexStats:
        with self.current() as qa:
            return qa.stats()

    def documents(self) -> list[DocumentSummary]:
        with self.current() as qa:
            return qa.store.document_summaries()

    def document(self, doc_id: str) -> Document | None:
        with self.current() as qa:
            return qa.store.document(doc_id)

    def add_files(self, sources: Sequence[Path], progress: bool = False) -> UploadReport:
        """Copy ``sources`` into the index's uploads folder and index them; each batch gets a
        folder of its own, so a second "report.pdf" never replaces the first and citations show
        the name the user chose. A file over the size limit, or one the loader skips, is refused."""
        refused: list[IngestWarning] = []
        refused_files: list[Path] = []
        accepted: list[Path] = []
        for source in sources:
            size = source.stat().st_size if source.exists() else 0
            if size > self.max_upload_bytes:
                refused.append(IngestWarning(source.name, self._too_large(size), kind=WarningKind.SKIPPED))
                refused_files.append(source)
            else:
                accepted.append(source)
        if not accepted:
            return UploadReport(0, 0, 0, tuple(refused), tuple(refused_files), "" if refused else "no files given")
        batch = self._new_batch()
        copied = []
        for source in accepted:
            target = batch / source.name
            if target.exists():
                refused.append(IngestWarning(source.name, _SAME_NAME, kind=WarningKind.SKIPPED))
                refused_files.append(source)
                continue
            shutil.copyfile(source, target)
            copied.append((source, target))
        return self._index_batch(batch, copied, refused, refused_files, progress)

    def add_streams(self, files: Sequence[IncomingFile], progress: bool = False) -> UploadReport:
        """Write uploads straight into a new batch folder, each stopped at the size limit (the
        bytes read, whatever was declared), and index them as ``add_files`` does."""
        refused: list[IngestWarning] = []
        batch = self._new_batch()
        copied = []
        for incoming in files:
            target = batch / incoming.name
            if target.exists():   # two files of one name would overwrite each other in the batch
                refused.append(IngestWarning(incoming.name, _SAME_NAME, kind=WarningKind.SKIPPED))
                continue
            written = 0
            with open(target, "wb") as out:
                while chunk := incoming.stream.read(_CHUNK):
                    written += len(chunk)
                    if written > self.max_upload_bytes:
                        break
                    out.write(chunk)
            if written > self.max_upload_bytes:
                target.unlink()
                refused.append(IngestWarning(incoming.name, self._too_large(written, at_least=True), kind=WarningKind.SKIPPED))
            else:
                copied.append((target, target))
        if not copied:
            _remove_batch(batch)
            return UploadReport(0, 0, 0, tuple(refused), (), "" if refused else "no files given")
        return self._index_batch(batch, copied, refused, [], progress)

    def _too_large(self, size: int, at_least: bool = False) -> str:
        return (f"{'over ' if at_least else ''}{size / 1024 ** 2:.1f} MB is over the "
                f"{self.max_upload_mb:g} MB upload limit")

    def _new_batch(self) -> Path:
        batch = self.index_dir / UPLOADS / uuid.uuid4().hex[:12]
        batch.mkdir(parents=True)
        (batch / PENDING).write_text(str(os.getpid()))
        _OUR_BATCHES.add(batch)
        return batch

    def _index_batch(self, batch: Path, copied: list[tuple[Path, Path]], refused: list[IngestWarning],
                     refused_files: list[Path], progress: bool) -> UploadReport:
        with self._build_lock:
            copied, duplicates = self._without_duplicates(copied, refused_files)
            if not copied:
                _remove_batch(batch)
                return UploadReport(0, 0, 0, tuple(refused), tuple(refused_files), duplicates=duplicates)
            builder = None
            try:
                with self._builder(progress) as builder:
                    report = builder([target for _, target in copied])
            except (IndexStoreError, ModelUnavailable, ValueError) as error:
                reasons = "; ".join(w.reason for w in builder.loader.warnings) if builder else ""
                shutil.rmtree(batch, ignore_errors=True)
                return UploadReport(0, 0, 0, tuple(refused), tuple(refused_files) + tuple(source for source, target in copied
                                                                                          if source != target),
                                    f"{error}" + (f" ({reasons})" if reasons else ""))
            self._swap(QA(open_store(self.location), self.qa.embedder))
        skipped = {Path(w.path).resolve() for w in report.warnings if w.skipped}
        for source, target in copied:
            if target.resolve() in skipped:
                target.unlink(missing_ok=True)
                if source != target:
                    refused_files.append(source)
        _remove_batch(batch, only_marker=True)
        refused += [replace(w, path=Path(w.path).name) for w in report.warnings]
        return UploadReport(report.added_documents, report.changed_documents, report.embedded,
                            tuple(refused), tuple(refused_files), duplicates=duplicates)

    def _without_duplicates(self, copied: list[tuple[Path, Path]],
                            refused_files: list[Path]) -> tuple[list[tuple[Path, Path]], tuple[Duplicate, ...]]:
        """``copied`` less the files whose bytes are indexed already (a document's content hash is
        its file's SHA-256) or come earlier in the same upload; those are deleted from the batch,
        and their given paths added to ``refused_files``."""
        with self.current() as qa:
            hashes = qa.store.manifest.documents          # document key -> content hash
            sources = {d.path: d.source for d in qa.store.document_summaries()}
        first_name = {digest: sources.get(key, Path(key).name) for key, digest in reversed(list(hashes.items()))}
        kept, duplicates = [], []
        for source, target in copied:
            with open(target, "rb") as file:
                digest = hashlib.file_digest(file, "sha256").hexdigest()
            if digest in first_name:
                duplicates.append(Duplicate(target.name, first_name[digest]))
                target.unlink()
                if source != target:
                    refused_files.append(source)
            else:
                first_name[digest] = target.name
                kept.append((source, target))
        return kept, tuple(duplicates)

    def _builder(self, progress: bool):
        """A builder with the session's settings and the index's own chunking, so an upload is cut
        as the index was (and a folder is not re-chunked whole)."""
        with self.current() as qa:
            settings = replace(qa.embedder.settings, chunking=qa.store.manifest.chunking)
            return make_builder(self.location, settings, progress=progress, embedder=qa.embedder)

    def remove(self, doc_id: str) -> Document:
        """Re-index without the document ``doc_id`` and return it; an uploaded file is deleted too.
        Raises ``KeyError`` for an id the index does not hold, ``NothingToIndex`` for its last document."""
        with self._build_lock:
            document = self.document(doc_id)
            if document is None:
                raise KeyError(doc_id)
            with self._builder(False) as builder:
                builder.remove([doc_id])
            self._swap(QA(open_store(self.location), self.qa.embedder))
        uploaded = Path(document.path)
        if uploaded.is_relative_to(self.index_dir.resolve() / UPLOADS) and not document.page:
            uploaded.unlink(missing_ok=True)
            if uploaded.parent.exists() and not any(uploaded.parent.iterdir()):
                uploaded.parent.rmdir()
        return document


_SAME_NAME = "skipped: another file of this name is in the same upload"


def _remove_batch(batch: Path, only_marker: bool = False) -> None:
    """Drop a batch's pending mark (its upload is done), and the folder too when it is empty."""
    (batch / PENDING).unlink(missing_ok=True)
    _OUR_BATCHES.discard(batch)
    if not only_marker:
        shutil.rmtree(batch, ignore_errors=True)
    elif batch.exists() and not any(batch.iterdir()):
        batch.rmdir()


def _alive(pid: str) -> bool:
    """Whether the process ``pid`` (as a marker file holds it) still runs, and is not this one."""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return int(pid) != 0


__all__ = ["DEFAULT_MAX_UPLOAD_MB", "DocumentLibrary", "Duplicate", "IncomingFile", "NothingToIndex", "Recovery", "UploadReport"]
