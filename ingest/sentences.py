"""Sentence boundaries as exact char spans, tuned for encyclopaedic and news prose."""
from __future__ import annotations

import re

from ingest.types import Span

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "inc", "ltd", "co", "corp",
    "no", "fig", "al", "approx", "dept", "est", "gen", "gov", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "u.s", "u.k", "d.c", "a.m", "p.m",
}
_TERMINAL = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n")
_OPENERS = "\"'“‘([¿¡*-•"
_WRAPPED_LINE_MIN = 60


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Return whitespace-trimmed sentence spans of ``text[start:end]`` (offsets into ``text``)."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    sentence_start = start
    for match in _TERMINAL.finditer(text, start, end):
        cut = match.end()
        if match.group() == "\n":
            if not _is_line_break_boundary(text, match.start(), start, end):
                continue
        elif not _is_sentence_end(text, match.start(), cut, end):
            continue
        _append_trimmed(spans, text, sentence_start, cut)
        sentence_start = cut
    _append_trimmed(spans, text, sentence_start, end)
    return spans


def _is_sentence_end(text: str, dot: int, cut: int, end: int) -> bool:
    following = text[cut:end].lstrip()
    if not following:
        return True
    first = following[0]
    if not (first.isupper() or first.isdigit() or first in _OPENERS or not first.isascii()):
        return False
    if text[dot] != ".":
        return True
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace() and text[word_start - 1] not in "([\"'“":
        word_start -= 1
    word = text[word_start:dot].lower()
    if word in _ABBREVIATIONS:
        return False
    # A single capital is an initial ("Gregory C. Allen"), not the end of a sentence.
    return not (len(word) == 1 and word.isalpha())


def _is_line_break_boundary(text: str, newline: int, start: int, end: int) -> bool:
    """A single newline splits sentences except inside hard-wrapped prose."""
    if newline + 1 < end and text[newline + 1] == "\n":
        return True
    line_start = text.rfind("\n", start, newline) + 1
    line = text[line_start:newline].rstrip()
    following = text[newline + 1:end].lstrip(" \t")
    wrapped = (
        len(line) >= _WRAPPED_LINE_MIN
        and line[-1:] not in ".!?:;…\"”"
        and following[:1].islower()
    )
    return not wrapped


def _append_trimmed(spans: list[Span], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append(Span(start, end, "sentence"))
