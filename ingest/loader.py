"""Turn files and folders into ``Document``s, detecting each file's format by its content."""
from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ingest.formats import BY_NAME, NotParsed, ParsedDocument, format_of_bytes, format_of_text
from ingest.formats.wikitext import is_redirect
from ingest.mediawiki_dump import DEFAULT_MAX_DUMP_BYTES, DumpTruncated, is_mediawiki_dump, iter_dump_pages
from ingest.reader import DEFAULT_MAX_BYTES, UnreadableFile, check_size, decode_text, file_digest, read_bytes
from ingest.types import Document, IngestWarning, WarningKind, document_key

log = logging.getLogger("docqa.ingest")

_DATED_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-")


def detect_format(text: str) -> str:
    """The text format ``text`` is in (``frontmatter``, ``wikitext``, ``markdown``, ``html`` or
    ``text``), judged from the content alone."""
    return format_of_text(text).name


def document_id(path: str, content_hash: str) -> str:
    return hashlib.sha256(f"{path}\0{content_hash}".encode()).hexdigest()[:16]


Warn = Callable[[Path, str], None]


def iter_files(paths: Iterable[str | Path], warn: Warn = lambda path, reason: None) -> Iterator[Path]:
    """Files under ``paths`` in a stable order, hidden files and folders left out.

    A file named on the command line is read wherever its link points; inside a folder, links
    that lead out of that folder, dangling links, link loops and unreadable folders are skipped
    with a warning, so indexing ``~/notes`` cannot pull in ``/etc/passwd``.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path, warn)
        elif path.is_file():
            yield path.resolve()
        elif path.is_symlink():
            warn(path, "skipped: a dangling or looping link")
        else:
            warn(path, "skipped: no such file or folder")


def _walk(folder: Path, warn: Warn) -> Iterator[Path]:
    root = folder.resolve()
    found = []

    def unreadable(error: OSError) -> None:
        reason = "permission denied" if isinstance(error, PermissionError) else (error.strerror or type(error).__name__)
        warn(Path(error.filename or folder), f"skipped folder: cannot read: {reason}")

    for directory, subfolders, files in os.walk(folder, onerror=unreadable):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in files:
            if name.startswith("."):
                continue
            child = Path(directory) / name
            try:
                target = child.resolve(strict=True)
            except (OSError, RuntimeError):
                warn(child, "skipped: a dangling or looping link")
                continue
            if child.is_symlink() and not target.is_relative_to(root):
                warn(child, f"skipped: a link to {target}, outside {folder}")
            elif target.is_file():
                found.append((child.relative_to(folder).parts, target))
        for name in subfolders:
            if (Path(directory) / name).is_symlink():
                warn(Path(directory) / name, "skipped: a link to a folder (links to folders are not followed)")
    for _, target in sorted(found):
        yield target


def _may_be_dump(path: Path) -> bool:
    """A MediaWiki dump may be any size: its pages are read one at a time, each within the limit."""
    return path.suffix in {".bz2", ".xml"}


class DocumentLoader:
    """Load documents from files and folders; a bad file is a one-line warning, never a crash.

    >>> loader = DocumentLoader()
    >>> docs = list(loader(["ingest/corpus"]))
    >>> sorted({d.format for d in docs})
    ['frontmatter', 'text', 'wikitext']

    The formats and their parsers are ``ingest.formats.FORMATS``.

    Given the digests of files read before (``known_files``, path -> sha256), a file whose bytes
    are unchanged is not parsed again: it is listed in ``unchanged_files`` instead.

    >>> again = DocumentLoader(known_files=loader.file_digests)
    >>> list(again(["ingest/corpus"])), len(again.unchanged_files)
    ([], 5)

    Parameters:
        max_bytes: files (and dump pages) above this size are skipped with a warning.
        max_dump_bytes: a dump stops being read after this many decompressed bytes.
        known_files: sha256 of files whose documents the caller already has.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_dump_bytes: int = DEFAULT_MAX_DUMP_BYTES,
                 known_files: dict[str, str] | None = None):
        self.max_bytes = max_bytes
        self.max_dump_bytes = max_dump_bytes
        self.known_files = known_files or {}
        self.warnings: list[IngestWarning] = []
        self.file_digests: dict[str, str] = {}
        self.unchanged_files: set[str] = set()

    def __call__(self, paths: Iterable[str | Path]) -> Iterator[Document]:
        for path in iter_files(paths, warn=self._skip):
            if not _may_be_dump(path):
                # Before the hash: a 20 GB file cost 40 s of hashing on every run only to be refused.
                try:
                    check_size(path, self.max_bytes)
                except UnreadableFile as error:
                    self._skip(path, str(error))
                    continue
                except OSError:
                    pass  # _load_file says why it cannot be read
            try:
                digest = self.file_digests[str(path)] = file_digest(path)
            except OSError:
                digest = None  # _load_file says why it cannot be read
            if digest is not None and self.known_files.get(str(path)) == digest:
                self.unchanged_files.add(str(path))
                continue
            try:
                yield from self._load_file(path)
            except UnreadableFile as error:
                self._warn(path, str(error), WarningKind.SKIPPED)
            except Exception as error:  # a parser bug on one file must not stop a corpus-wide run
                self._warn_parse_failure(path, error)

    def _warn_parse_failure(self, path: Path | str, error: Exception) -> None:
        self._warn(path, f"skipped: could not parse ({type(error).__name__}: {' '.join(str(error).split())[:120]})",
                   WarningKind.SKIPPED)

    def _skip(self, path: Path | str, message: str) -> None:
        self._warn(path, message, WarningKind.SKIPPED)

    def _warn(self, path: Path | str, message: str, kind: WarningKind) -> None:
        warning = IngestWarning(str(path), message, kind=kind)
        self.warnings.append(warning)
        log.warning(str(warning))

    def _load_file(self, path: Path) -> Iterator[Document]:
        if _may_be_dump(path):
            try:
                dump = is_mediawiki_dump(path)
            except DumpTruncated as error:
                raise UnreadableFile(f"skipped: {error.reason}; no page could be read") from None
            if dump:
                yield from self._load_dump(path)
                return
        data = read_bytes(path, self.max_bytes)
        content_hash = hashlib.sha256(data).hexdigest()
        binary = format_of_bytes(data)
        if binary is not None:
            document = self._document(binary.name, binary.parse, data, str(path), path.name, content_hash)
        else:
            raw = decode_text(data)
            if raw.warning:
                self._warn(path, raw.warning, WarningKind.CAVEAT)
            document = self.parse(raw.text, str(path), path.name, content_hash)
        if document is not None:
            yield document

    def _load_dump(self, path: Path) -> Iterator[Document]:
        indexed = 0
        try:
            for page in iter_dump_pages(path, self.max_bytes, self.max_dump_bytes):
                page_path = document_key(str(path), page.title)
                if page.problem:
                    self._warn(page_path, f"page skipped: {page.problem}", WarningKind.SKIPPED)
                    continue
                if page.namespace != 0 or is_redirect(page.text) or not page.text.strip():
                    continue
                content_hash = hashlib.sha256(page.text.encode()).hexdigest()
                try:
                    document = self.parse(page.text, str(path), f"{path.name}#{page.title}",
                                          content_hash, fmt="wikitext", title=page.title, page=page.title)
                except Exception as error:  # one broken page must not cost the rest of the dump
                    self._warn_parse_failure(page_path, error)
                    continue
                if document is not None:
                    indexed += 1
                    yield document
        except DumpTruncated as error:
            self._warn(path, f"{indexed} pages indexed, the rest is lost: {error.reason} after page {error.pages}",
                       WarningKind.CAVEAT)

    def parse(self, text: str, path: str, source: str, content_hash: str,
              fmt: str | None = None, title: str = "", page: str = "") -> Document | None:
        """A document from decoded text, in ``fmt`` or the format its content shows."""
        chosen = BY_NAME[fmt] if fmt else format_of_text(text)
        return self._document(chosen.name, chosen.parse, text, path, source, content_hash, title, page)

    def _document(self, fmt: str, parse, content: bytes | str, path: str, source: str, content_hash: str,
                  title: str = "", page: str = "") -> Document | None:
        key = document_key(path, page)
        try:
            parsed: ParsedDocument = parse(content)
        except NotParsed as reason:
            self._warn(key, str(reason), WarningKind.SKIPPED)
            return None
        if parsed.warning:
            self._warn(key, parsed.warning, WarningKind.CAVEAT)
        if not parsed.text.strip():
            self._warn(key, "skipped: no text left after cleaning", WarningKind.SKIPPED)
            return None
        published = parsed.published
        # Jekyll posts and many notes keep their date only in the file name (2014-03-19-hello.md).
        dated = _DATED_NAME.match(Path(source).name)
        if not published and dated:
            published = dated[1]
        return Document(
            doc_id=document_id(key, content_hash), path=path, page=page, source=source,
            title=title or parsed.title or Path(source).stem or source, text=parsed.text, format=parsed.format or fmt,
            content_hash=content_hash, url=parsed.url, published=published, sections=parsed.sections,
            refs=parsed.refs, pages=parsed.pages, source_map=parsed.source_map, fields=parsed.fields,
        )
