"""Markdown without front matter: ``#`` headings become section paths; links, images and inline
HTML are reduced to their text, as in front-matter posts."""
from __future__ import annotations

import re

from ingest.formats.base import Format, ParsedDocument
from ingest.formats.text import first_line
from ingest.textbuilder import TextBuilder

_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_HTML_BREAK = re.compile(r"<br\s*/?>", re.I)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_LIQUID = re.compile(r"{%.*?%}|{{.*?}}", re.S)
_EMPHASIS = re.compile(r"\*\*|__")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_HEADING_LINE = re.compile(r"^#{1,6}\s+\S", re.M)
_FENCE = re.compile(r"^(```|~~~)", re.M)


def looks_like_markdown(text: str) -> bool:
    """ATX headings (``# Title``), or links and fences that plain text does not have."""
    head = text[:20000]
    return bool(_HEADING_LINE.search(head)) or len(_MD_LINK.findall(head)) + len(_FENCE.findall(head)) >= 2


def write_markdown(out: TextBuilder, markdown: str) -> None:
    """Write Markdown as plain text; ``#`` headings become section paths."""
    markdown = _LIQUID.sub("", markdown)
    for line in markdown.splitlines():
        heading = _HEADING.match(line)
        if heading:
            out.heading(len(heading.group(1)), _clean_inline(heading.group(2)))
            continue
        out.write(_clean_inline(line) + "\n")


def parse(text: str) -> ParsedDocument:
    """The title is the first heading (else the first line).

    >>> doc = parse("# Field notes\\n\\nSee [the map](https://example.org/map).\\n\\n## Day two\\nRain.")
    >>> doc.title, doc.text, [s.label for s in doc.sections]
    ('Field notes', 'Field notes\\n\\nSee the map.\\n\\nDay two\\nRain.', ['Field notes', 'Field notes > Day two'])
    """
    out = TextBuilder()
    write_markdown(out, text)
    heading = next((match for match in map(_HEADING.match, text.splitlines()) if match), None)
    return out.build(title=(_clean_inline(heading.group(2)) if heading else first_line(out.text))[:200])


def _clean_inline(line: str) -> str:
    line = _MD_IMAGE.sub("", line)
    line = _MD_LINK.sub(r"\1", line)
    line = _HTML_BREAK.sub("\n", line)
    line = _HTML_TAG.sub("", line)
    return _EMPHASIS.sub("", line)


FORMAT = Format("markdown", looks_like_markdown, parse)
