"""Plain text: whitespace made tidy, the first line as the title."""
from __future__ import annotations

from ingest.formats.base import Format, ParsedDocument
from ingest.textbuilder import TextBuilder


def parse(text: str) -> ParsedDocument:
    builder = TextBuilder()
    builder.write(text)
    clean = builder.build()[0]
    title = next((line.strip()[:200] for line in clean.splitlines() if line.strip()), "")
    return ParsedDocument(clean, title)


FORMAT = Format("text", lambda text: True, parse)
