"""One live index that many people ask and change at once: the state behind the web UI and the
REST API (questions, the document list, uploads and removals)."""
from __future__ import annotations

import shutil
import threading
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from index.builder import NothingToIndex
from index.embedder import ModelUnavailable, docqa_cache, model_slug
from index.store import DocumentSummary, IndexStoreError
from index.stores import engine_scheme, make_builder, open_store
from ingest.types import Document, IngestWarning
from qa.api import QA, IndexStats
from qa.types import Answer

DEFAULT_MAX_UPLOAD_MB = 100
UPLOADS = "uploads"


@dataclass(frozen=True)
class UploadReport:
    """What adding files did: documents added and changed, passages embedded; ``refused`` names
    each file not indexed (by the name it was given) and why, and ``refused_files`` are those of
    the given paths, which a caller may delete (the UI removes Gradio's temporary copies);
    ``error`` says why nothing at all was added."""

    added: int
    changed: int
    embedded: int
    refused: tuple[IngestWarning, ...] = ()
    refused_files: tuple[Path, ...] = ()
    error: str = ""


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

    def ask(self, question: str, k: int = 5, mode: str | None = None) -> Answer:
        with self.current() as qa:
            return qa.ask(question, k=k, mode=mode)

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
                refused.append(IngestWarning(source.name, f"{size / 1024 ** 2:.1f} MB is over the "
                                                          f"{self.max_upload_mb:g} MB upload limit"))
                refused_files.append(source)
            else:
                accepted.append(source)
        if not accepted:
            return UploadReport(0, 0, 0, tuple(refused), tuple(refused_files), "" if refused else "no files given")
        batch = self.index_dir / UPLOADS / uuid.uuid4().hex[:12]
        batch.mkdir(parents=True)
        copied = []
        for source in accepted:
            target = batch / source.name
            shutil.copyfile(source, target)
            copied.append((source, target))
        with self._build_lock:
            builder = None
            try:
                with make_builder(self.location, progress=progress, embedder=self.qa.embedder) as builder:
                    report = builder([target for _, target in copied])
            except (IndexStoreError, ModelUnavailable, ValueError) as error:
                reasons = "; ".join(w.reason for w in builder.loader.warnings) if builder else ""
                shutil.rmtree(batch, ignore_errors=True)
                return UploadReport(0, 0, 0, tuple(refused), tuple(refused_files) + tuple(s for s, _ in copied),
                                    f"{error}" + (f" ({reasons})" if reasons else ""))
            self._swap(QA(open_store(self.location), self.qa.embedder))
        skipped = {Path(w.path).resolve() for w in report.warnings if w.reason.startswith("skipped")}
        for source, target in copied:
            if target.resolve() in skipped:
                target.unlink(missing_ok=True)
                refused_files.append(source)
        if batch.exists() and not any(batch.iterdir()):
            batch.rmdir()
        refused += [IngestWarning(Path(w.path).name, w.reason) for w in report.warnings]
        return UploadReport(report.added_documents, report.changed_documents, report.embedded,
                            tuple(refused), tuple(refused_files))

    def remove(self, doc_id: str) -> Document:
        """Re-index without the document ``doc_id`` and return it; an uploaded file is deleted too.
        Raises ``KeyError`` for an id the index does not hold, ``NothingToIndex`` for its last document."""
        with self._build_lock:
            document = self.document(doc_id)
            if document is None:
                raise KeyError(doc_id)
            with make_builder(self.location, progress=False, embedder=self.qa.embedder) as builder:
                builder.remove([doc_id])
            self._swap(QA(open_store(self.location), self.qa.embedder))
        uploaded = Path(document.path)
        if uploaded.is_relative_to(self.index_dir.resolve() / UPLOADS) and not document.page:
            uploaded.unlink(missing_ok=True)
            if uploaded.parent.exists() and not any(uploaded.parent.iterdir()):
                uploaded.parent.rmdir()
        return document


__all__ = ["DEFAULT_MAX_UPLOAD_MB", "DocumentLibrary", "NothingToIndex", "UploadReport"]
