"""Turn files and folders into ``Document``s, detecting each file's format by its content."""
from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ingest.frontmatter_doc import FrontMatterError, has_front_matter, parse_front_matter
from ingest.mediawiki_dump import DEFAULT_MAX_DUMP_BYTES, DumpTruncated, is_mediawiki_dump, iter_dump_pages
from ingest.reader import DEFAULT_MAX_BYTES, UnreadableFile, file_digest, read_text
from ingest.textbuilder import TextBuilder
from ingest.types import Document, IngestWarning, document_key
from ingest.wikitext import WikitextRenderer, is_redirect

log = logging.getLogger("docqa.ingest")

_WIKI_MARKERS = re.compile(r"\[\[[^\]\n]+\]\]|\{\{[^}\n]*|^=={1,5}[^=\n]+=+\s*$|'''[^'\n]+'''|<ref[ >]", re.M)
_WIKI_MIN_MARKERS = 3
_JEKYLL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})-")


def detect_format(text: str) -> str:
    """``frontmatter``, ``wikitext`` or ``text``, judged from the content alone."""
    if has_front_matter(text):
        return "frontmatter"
    markers = _WIKI_MARKERS.findall(text[:20000])
    return "wikitext" if len(markers) >= _WIKI_MIN_MARKERS else "text"


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


class DocumentLoader:
    """Load documents from files and folders; a bad file is a one-line warning, never a crash.

    >>> loader = DocumentLoader()
    >>> docs = list(loader(["ingest/corpus"]))
    >>> sorted({d.format for d in docs})
    ['frontmatter', 'text', 'wikitext']

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
        self.render_wikitext = WikitextRenderer()
        self.warnings: list[IngestWarning] = []
        self.file_digests: dict[str, str] = {}
        self.unchanged_files: set[str] = set()

    def __call__(self, paths: Iterable[str | Path]) -> Iterator[Document]:
        for path in iter_files(paths, warn=self._warn):
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
                self._warn(path, str(error))
            except Exception as error:  # a parser bug on one file must not stop a corpus-wide run
                self._warn_parse_failure(path, error)

    def _warn_parse_failure(self, path: Path | str, error: Exception) -> None:
        self._warn(path, f"skipped: could not parse ({type(error).__name__}: {' '.join(str(error).split())[:120]})")

    def _warn(self, path: Path | str, message: str) -> None:
        warning = IngestWarning(str(path), message)
        self.warnings.append(warning)
        log.warning(str(warning))

    def _load_file(self, path: Path) -> Iterator[Document]:
        if path.suffix in {".bz2", ".xml"}:
            try:
                dump = is_mediawiki_dump(path)
            except DumpTruncated as error:
                raise UnreadableFile(f"skipped: {error.reason}; no page could be read") from None
            if dump:
                yield from self._load_dump(path)
                return
        raw = read_text(path, self.max_bytes)
        if raw.warning:
            self._warn(path, raw.warning)
        document = self.parse(raw.text, str(path), path.name, raw.content_hash)
        if document is not None:
            yield document

    def _load_dump(self, path: Path) -> Iterator[Document]:
        indexed = 0
        try:
            for page in iter_dump_pages(path, self.max_bytes, self.max_dump_bytes):
                page_path = document_key(str(path), page.title)
                if page.problem:
                    self._warn(page_path, f"page skipped: {page.problem}")
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
            self._warn(path, f"{indexed} pages indexed, the rest is lost: {error.reason} after page {error.pages}")

    def parse(self, text: str, path: str, source: str, content_hash: str,
              fmt: str | None = None, title: str = "", page: str = "") -> Document | None:
        fmt = fmt or detect_format(text)
        url = published = ""
        sections = refs = ()
        if fmt == "frontmatter":
            try:
                parsed = parse_front_matter(text)
                title, url, published, clean, sections = (
                    parsed.title, parsed.url, parsed.published, parsed.text, parsed.sections)
                # Jekyll posts often keep their date only in the file name (2014-03-19-hello.md).
                dated = _JEKYLL_DATE.match(Path(source).name)
                if not published and dated:
                    published = dated[1]
            except FrontMatterError as error:
                self._warn(path, f"front matter does not parse ({error}); indexed as plain text")
                fmt, text = "text", _strip_front_matter_block(text)
        if fmt == "wikitext":
            rendered = self.render_wikitext(text)
            if rendered.warning:
                self._warn(document_key(path, page), rendered.warning)
            clean, sections, refs = rendered.text, rendered.sections, rendered.refs
            title = title or rendered.title or Path(source).stem
        if fmt == "text":
            builder = TextBuilder()
            builder.write(text)
            clean = builder.build()[0]
            title = title or _first_line(clean)
        if not clean.strip():
            self._warn(path, "skipped: no text left after cleaning")
            return None
        return Document(
            doc_id=document_id(document_key(path, page), content_hash), path=path, page=page, source=source, title=title or source,
            text=clean, format=fmt, content_hash=content_hash, url=url, published=published,
            sections=tuple(sections), refs=tuple(refs),
        )


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def _strip_front_matter_block(text: str) -> str:
    closing = re.search(r"^(---|\.\.\.)\s*$", text[3:], re.M)
    return text[3 + closing.end():] if closing else text
