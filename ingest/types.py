"""The data that leaves the ingest stage: documents and their passages."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True)
class Span:
    """A labelled char range ``[start, end)`` of a document's cleaned text."""

    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)   # slots: a long text file holds one per line
class SourceMark:
    """From ``offset`` of the cleaned text on (up to the next mark), the text comes from lines
    ``first``..``last`` (1-based) of the source as it is on disk; for a Word file, from its
    paragraphs ``first``..``last`` (python-docx's ``Document.paragraphs``, 1-based)."""

    offset: int
    first: int
    last: int


def source_lines(marks: tuple[SourceMark, ...], start: int, end: int) -> tuple[int, int] | None:
    """The first and last source line (or paragraph) that the cleaned text ``[start, end)`` comes
    from, or None where ``marks`` say nothing of it (a PDF, an index built before marks existed).

    >>> marks = (SourceMark(0, 1, 1), SourceMark(6, 3, 3), SourceMark(12, 4, 6))
    >>> source_lines(marks, 2, 8), source_lines(marks, 13, 14), source_lines((), 0, 5)
    ((1, 3), (4, 6), None)
    """
    if not marks or end <= start:
        return None
    first = max(0, bisect_right(marks, start, key=lambda mark: mark.offset) - 1)
    last = max(first, bisect_right(marks, end - 1, key=lambda mark: mark.offset) - 1)
    covering = marks[first:last + 1]
    return min(mark.first for mark in covering), max(mark.last for mark in covering)


@dataclass(frozen=True)
class Field:
    """One front-matter value: ``tags: [python, ml]`` is two fields named ``tags``."""

    name: str
    value: str


@dataclass(frozen=True)
class Document:
    """One cleaned source document.

    ``text`` is the cleaned text every offset in the project points into.
    ``path`` is the file it came from and ``page`` the page inside that file (a dump's article
    title), empty for single-document files; ``key`` joins the two into the document's identity.
    ``sections`` carries the section path of each region (``History > 2018``),
    ``refs`` the URL of each reference and the sentence span it supports, ``pages`` each page's
    region labelled with its number (PDF), ``source_map`` where each stretch of ``text`` is in
    the file on disk (``SourceMark``: its lines, a Word file's paragraphs; empty for a PDF),
    ``fields`` the front matter's plain values (what ``--where tag=python`` reads).
    """

    doc_id: str
    path: str
    source: str
    title: str
    text: str
    format: str
    content_hash: str
    url: str = ""
    published: str = ""
    sections: tuple[Span, ...] = ()
    refs: tuple[Span, ...] = ()
    page: str = ""
    pages: tuple[Span, ...] = ()
    source_map: tuple[SourceMark, ...] = ()
    fields: tuple[Field, ...] = ()

    @property
    def key(self) -> str:
        return document_key(self.path, self.page)

    def section_at(self, offset: int) -> str:
        for section in self.sections:
            if section.start <= offset < section.end:
                return section.label
        return ""

    def page_at(self, offset: int) -> int | None:
        """The number of the (PDF) page ``offset`` falls on, or None for a document without pages."""
        for span in self.pages:
            if span.start <= offset < span.end:
                return int(span.label)
        return None

    def urls_between(self, start: int, end: int) -> tuple[str, ...]:
        """Reference URLs whose supported sentence overlaps ``[start, end)``, in order, once each."""
        return labels_overlapping(self.refs, start, end)


def document_key(path: str, page: str = "") -> str:
    """A document's identity: its file, and its page where the file holds several (a dump)."""
    return f"{path}#{page}" if page else path


def labels_overlapping(spans: tuple[Span, ...], start: int, end: int) -> tuple[str, ...]:
    return tuple(dict.fromkeys(span.label for span in spans if span.start < end and span.end > start))


@dataclass(frozen=True)
class Passage:
    """A chunk of a document: ``text == document.text[start:end]``."""

    passage_id: str
    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    section: str = ""
    urls: tuple[str, ...] = field(default=())
    page: int | None = None      # the PDF page it is on (passages never cross a page)


class WarningKind(str, Enum):
    """What became of the file (or page) a warning is about."""

    SKIPPED = "skipped"     # nothing of it was indexed
    CAVEAT = "caveat"       # it was indexed, with a caveat (a lossy decoding, a dump cut short)


@dataclass(frozen=True)
class IngestWarning:
    """A file (or a page inside one) that was skipped or read with a caveat, and why.

    >>> IngestWarning("a.pdf", "skipped: the file is empty", kind=WarningKind.SKIPPED).skipped
    True
    """

    path: str
    reason: str
    kind: WarningKind = field(kw_only=True)

    @property
    def skipped(self) -> bool:
        return self.kind == WarningKind.SKIPPED

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
