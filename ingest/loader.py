"""Turn files and folders into ``Document``s, detecting each file's format by its content."""
from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Iterable, Iterator

from ingest.frontmatter_doc import FrontMatterError, has_front_matter, parse_front_matter
from ingest.mediawiki_dump import is_mediawiki_dump, iter_dump_pages
from ingest.reader import DEFAULT_MAX_BYTES, UnreadableFile, read_text
from ingest.textbuilder import TextBuilder
from ingest.types import Document
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


def iter_files(paths: Iterable[str | Path], on_missing=lambda path: None) -> Iterator[Path]:
    """Files under ``paths`` in a stable order, hidden files and folders left out."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
                    yield child.resolve()
        elif path.is_file():
            yield path.resolve()
        else:
            on_missing(path)


class DocumentLoader:
    """Load documents from files and folders; a bad file is a one-line warning, never a crash.

    >>> loader = DocumentLoader()
    >>> docs = list(loader(["ingest/corpus"]))
    >>> sorted({d.format for d in docs})
    ['frontmatter', 'text', 'wikitext']
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_bytes = max_bytes
        self.render_wikitext = WikitextRenderer()
        self.warnings: list[str] = []

    def __call__(self, paths: Iterable[str | Path]) -> Iterator[Document]:
        for path in iter_files(paths, on_missing=lambda p: self._warn(p, "skipped: no such file or folder")):
            try:
                yield from self._load_file(path)
            except UnreadableFile as error:
                self._warn(path, str(error))
            except Exception as error:  # a parser bug on one file must not stop a corpus-wide run
                self._warn_parse_failure(path, error)

    def _warn_parse_failure(self, path: Path | str, error: Exception) -> None:
        self._warn(path, f"skipped: could not parse ({type(error).__name__}: {' '.join(str(error).split())[:120]})")

    def _warn(self, path: Path | str, message: str) -> None:
        line = f"{path}: {message}"
        self.warnings.append(line)
        log.warning(line)

    def _load_file(self, path: Path) -> Iterator[Document]:
        if path.suffix in {".bz2", ".xml"} and is_mediawiki_dump(path):
            yield from self._load_dump(path)
            return
        raw = read_text(path, self.max_bytes)
        if raw.warning:
            self._warn(path, raw.warning)
        document = self.parse(raw.text, str(path), path.name, raw.content_hash)
        if document is not None:
            yield document

    def _load_dump(self, path: Path) -> Iterator[Document]:
        for page in iter_dump_pages(path):
            if page.namespace != 0 or is_redirect(page.text) or not page.text.strip():
                continue
            content_hash = hashlib.sha256(page.text.encode()).hexdigest()
            page_path = f"{path}#{page.title}"
            try:
                document = self.parse(page.text, page_path, f"{path.name}#{page.title}",
                                      content_hash, fmt="wikitext", title=page.title)
            except Exception as error:  # one broken page must not cost the rest of the dump
                self._warn_parse_failure(page_path, error)
                continue
            if document is not None:
                yield document

    def parse(self, text: str, path: str, source: str, content_hash: str,
              fmt: str | None = None, title: str = "") -> Document | None:
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
            doc_id=document_id(path, content_hash), path=path, source=source, title=title or source,
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
