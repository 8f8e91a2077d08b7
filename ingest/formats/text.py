"""Plain text: whitespace made tidy, the first line as the title."""
from __future__ import annotations

from ingest.formats.base import Format, ParsedDocument
from ingest.textbuilder import TextBuilder


def parse(text: str, start_line: int = 1) -> ParsedDocument:
    """``start_line``: the line of the file ``text`` starts on (after a front-matter block, say)."""
    builder = TextBuilder()
    builder.at_source(start_line)
    builder.write(text)
    return builder.build(title=first_line(builder.text))


def first_line(text: str) -> str:
    """The first non-blank line, as a title (at most 200 characters)."""
    return next((line.strip()[:200] for line in text.splitlines() if line.strip()), "")


FORMAT = Format("text", lambda text: True, parse)
