"""What every format parser returns, and what the registry knows of a format."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ingest.types import Field, SourceMark, Span


@dataclass(frozen=True)
class ParsedDocument:
    """One file's (or one dump page's) cleaned text and what its readers cite it by.

    ``sections`` label regions of ``text`` with their heading path (``History > 2018``), ``refs``
    sentences with the URL that supports them, ``pages`` regions with their page number (PDF);
    ``source_map`` says where each stretch of ``text`` is in the source (``ingest.types.SourceMark``).
    ``warning`` is a caveat the document is still indexed with; ``format`` names the format
    that parsed it where that is not the one detected (front matter that fails falls back to text);
    ``fields`` are the front matter's plain values.
    """

    text: str
    title: str = ""
    sections: tuple[Span, ...] = ()
    refs: tuple[Span, ...] = ()
    pages: tuple[Span, ...] = ()
    source_map: tuple[SourceMark, ...] = ()
    url: str = ""
    published: str = ""
    warning: str = ""
    format: str = ""
    fields: tuple[Field, ...] = ()


class NotParsed(Exception):
    """The file is of this format but yields no document; the message is a one-line reason
    ("scanned PDF with no text layer")."""


@dataclass(frozen=True)
class Format:
    """A format the loader can read: ``detect`` judges a file from its content (bytes for a
    binary format, decoded text otherwise) and ``parse`` turns that content into a document."""

    name: str
    detect: Callable[[bytes | str], bool]
    parse: Callable[[bytes | str], ParsedDocument]
    binary: bool = False
