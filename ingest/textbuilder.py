"""Assemble cleaned text piece by piece while recording section and reference offsets, and
where in the source each piece comes from (its source map).

Whitespace is normalised as it is written (runs of spaces collapse, at most one
blank line), and only ever *before* the next visible character, so every offset
recorded along the way stays valid in the final text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.formats.base import ParsedDocument
from ingest.sentences import split_sentences
from ingest.types import SourceMark, Span

_WHITESPACE_RUNS = re.compile(r"(\s+)")
# A line break that a reader renders where the source has none (``<br>``): written as a newline,
# it moves no source line forward.
RENDERED_BREAK = "\u2028"
_NO_SPACE_BEFORE = set(",.;:!?)]}%")


class HeadingPath:
    """The open headings at one point of a document, as a section path (``History > 2018``).

    >>> path = HeadingPath()
    >>> path.enter(1, "History"), path.enter(2, "2018"), path.enter(2, "2019"), path.enter(1, "Products")
    ('History', 'History > 2018', 'History > 2019', 'Products')
    """

    def __init__(self):
        self._open: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> str:
        """Open a heading of ``level`` (1 the highest) under the open ones above it; its path."""
        self.close(level)
        self._open.append((level, title))
        return self.path

    def close(self, level: int) -> None:
        """Close the open headings at ``level`` and below."""
        while self._open and self._open[-1][0] >= level:
            self._open.pop()

    @property
    def path(self) -> str:
        return " > ".join(title for _, title in self._open)


@dataclass
class TextBuilder:
    parts: list[str] = field(default_factory=list)
    length: int = 0
    _pending_space: bool = False
    _pending_newlines: int = 0
    _headings: list[tuple[int, int, str]] = field(default_factory=list)
    _ref_marks: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    _headings_open: HeadingPath = field(default_factory=HeadingPath)
    _marks: list[SourceMark] = field(default_factory=list)
    _line: int = 0                  # the source line of what is written next; 0: not known
    _last_line: int | None = None   # the last line of a fixed range; None: newlines written advance _line
    _moved: bool = False            # the source line changed since the last mark

    def at_source(self, first: int, last: int | None = None) -> None:
        """What is written next comes from source line ``first`` (1-based). Without ``last`` the
        text written is the source's own, so each newline in it moves to the next line; with
        ``last`` it is rendered from lines ``first``..``last`` (a table, a template) and stays there.

        >>> out = TextBuilder()
        >>> out.at_source(3); out.write("Rain.\\nSun.")
        >>> out.at_source(7, 9); out.write(" Field: 6.4.")
        >>> out.build().source_map
        (SourceMark(offset=0, first=3, last=3), SourceMark(offset=6, first=4, last=4), SourceMark(offset=11, first=7, last=9))
        """
        self._line, self._last_line = max(1, first), (max(first, last) if last is not None else None)
        self._moved = True

    def write(self, text: str) -> None:
        for piece in _WHITESPACE_RUNS.split(text):
            if not piece:
                continue
            if piece.isspace():
                newlines = piece.count("\n")
                if newlines and self._line and self._last_line is None:
                    self._line += newlines
                    self._moved = True
                newlines += piece.count(RENDERED_BREAK)
                if newlines:
                    self._pending_newlines = min(2, self._pending_newlines + newlines)
                else:
                    self._pending_space = True
                continue
            if self.length:
                if self._pending_newlines:
                    self._emit("\n" * self._pending_newlines)
                elif self._pending_space and piece[0] not in _NO_SPACE_BEFORE:
                    self._emit(" ")
            self._pending_space = False
            self._pending_newlines = 0
            if self._moved:   # checked per word: a mark is only made where the source line moved
                self._mark_source()
            self._emit(piece)

    def _mark_source(self) -> None:
        self._moved = False
        if not self._line:
            return
        last = self._last_line or self._line
        if not self._marks or (self._marks[-1].first, self._marks[-1].last) != (self._line, last):
            self._marks.append(SourceMark(self.length, self._line, last))

    def paragraph_break(self) -> None:
        self._pending_newlines = 2 if self.length else 0

    def start_section(self, path: str, heading: str | None = None) -> None:
        """Begin a new section; ``heading`` is written as its own line of text."""
        heading_start = self.length
        if heading:
            self.paragraph_break()
            self.write(heading)
            heading_start = self.length - len(heading.strip())
            self._pending_newlines = 1
        self._headings.append((heading_start, self.length, path))

    def heading(self, level: int, title: str) -> None:
        """Open a section for a heading of ``level`` (1 the highest): its path is the titles of
        the open headings above it and its own (``History > 2018``); the title is written as a line."""
        self.start_section(self._headings_open.enter(level, title), heading=title)

    def close_headings(self, level: int) -> None:
        """Close the open headings at ``level`` and below, without opening a section."""
        self._headings_open.close(level)

    def section_path(self) -> str:
        return self._headings_open.path

    def add_reference(self, urls: tuple[str, ...]) -> None:
        """Attach ``urls`` to the sentence that ends where the text currently ends."""
        if urls:
            self._ref_marks.append((self.length, urls))

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def build(self, **metadata) -> ParsedDocument:
        """The text with its sections and references, and ``metadata`` (title, url, ...)."""
        text = self.text
        sections = []
        for index, (_, start, path) in enumerate(self._headings):
            end = self._headings[index + 1][0] if index + 1 < len(self._headings) else len(text)
            if end > start:
                sections.append(Span(start, end, path))
        if self._headings and self._headings[0][0] > 0:
            sections.insert(0, Span(0, self._headings[0][0], ""))
        return ParsedDocument(text, sections=tuple(sections), refs=self._resolve_references(text),
                              source_map=tuple(self._marks), **metadata)

    def _resolve_references(self, text: str) -> tuple[Span, ...]:
        if not self._ref_marks:
            return ()
        sentences = split_sentences(text)
        refs = []
        for mark, urls in self._ref_marks:
            # A ref follows the sentence it supports, so pick the last sentence starting before it.
            supported = None
            for sentence in sentences:
                if sentence.start < mark:
                    supported = sentence
                else:
                    break
            if supported is not None:
                refs.extend(Span(supported.start, supported.end, url) for url in urls)
        return tuple(refs)

    def _emit(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)
