"""The formats the loader reads, each detected from the file's content and parsed by its module.

Adding a format is one module with a ``FORMAT = Format(name, detect, parse)`` and one line below.
Binary formats are tried first, on the file's bytes; text formats then, in this order, on its
decoded text (plain text takes whatever is left).

>>> [f.name for f in FORMATS]
['pdf', 'docx', 'html', 'frontmatter', 'wikitext', 'markdown', 'text']
>>> format_of_text("# Notes\\n\\nSome [link](https://example.org).").name
'markdown'
"""
from __future__ import annotations

from ingest.formats import docx, frontmatter, html, markdown, pdf, text, wikitext
from ingest.formats.base import Format, NotParsed, ParsedDocument

FORMATS: tuple[Format, ...] = (
    pdf.FORMAT,
    docx.FORMAT,
    html.FORMAT,
    frontmatter.FORMAT,
    wikitext.FORMAT,
    markdown.FORMAT,
    text.FORMAT,
)
BY_NAME = {f.name: f for f in FORMATS}


def format_of_bytes(data: bytes) -> Format | None:
    """The binary format ``data`` is in, or None for text."""
    return next((f for f in FORMATS if f.binary and f.detect(data)), None)


def format_of_text(content: str) -> Format:
    return next(f for f in FORMATS if not f.binary and f.detect(content))


__all__ = ["BY_NAME", "FORMATS", "Format", "NotParsed", "ParsedDocument", "format_of_bytes", "format_of_text"]
