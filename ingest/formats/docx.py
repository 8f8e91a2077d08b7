"""Word documents (python-docx): paragraphs and tables in order, Heading styles as section paths,
and the core properties' title and date (never the date of the template the file was made from)."""
from __future__ import annotations

import datetime
import io
import re
import zipfile
import zlib

from ingest.formats.base import Format, NotParsed, ParsedDocument
from ingest.formats.text import first_line
from ingest.tables import TableRow, table_statements
from ingest.textbuilder import TextBuilder

_HEADING_STYLE = re.compile(r"^Heading (\d)$")
# python-docx unpacks every part into memory and lxml builds a tree of the XML ones, at several
# times their size: a 450 KB file that unpacks to 400 MB cost 860 MB of RAM (8 GB for a 4.5 MB one).
# A Word file of the 20 MB the loader accepts rarely unpacks past a few times that.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
_READ_BLOCK = 1 << 20
# Core-property dates that belong to a template, not to the documents made from it: python-docx's
# own default.docx (every file it writes without setting a date says 2013-12-23).
TEMPLATE_DATES = (datetime.datetime(2013, 12, 23, 23, 15, tzinfo=datetime.timezone.utc),)
# A file copied from a template keeps the template's creation date while its last change is the
# document's own: a creation this long before the last change is taken for the template's.
TEMPLATE_AGE = datetime.timedelta(days=365)


def looks_like_docx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        return "word/document.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        return False


def parse(data: bytes) -> ParsedDocument:
    import docx                  # here, not at the top: every qa command imports the registry
    from docx.table import Table

    _check_unpacked_size(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises several kinds for a damaged package
        raise NotParsed(f"skipped: not a readable Word file ({type(error).__name__})") from None
    out = TextBuilder()
    first_heading = ""
    # Paragraphs are numbered as python-docx's ``Document.paragraphs`` lists them (empty ones too),
    # 1-based: the source map's "lines" of a Word file. A table counts as the paragraph before it.
    paragraph = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            out.at_source(max(1, paragraph), max(1, paragraph))
            # Word marks no header row reliably: the first row of a grid of at least 2 x 2 is one.
            rows = [tuple(cell.text for cell in row.cells) for row in block.rows]
            has_header = len(rows) >= 2 and len(rows[0]) >= 2
            for statement in table_statements([TableRow(cells, header=has_header and index == 0)
                                               for index, cells in enumerate(rows)]):
                out.write(statement + "\n")
            out.paragraph_break()
            continue
        paragraph += 1
        out.at_source(paragraph, paragraph)
        style = block.style.name if block.style is not None else ""
        text = block.text.strip()
        heading = _HEADING_STYLE.match(style)
        if text and (heading or style == "Title"):
            out.heading(int(heading[1]) if heading else 1, " ".join(text.split()))
            first_heading = first_heading or " ".join(text.split())
        elif text:
            out.write(text)
            out.paragraph_break()
    properties = document.core_properties
    title = " ".join((properties.title or "").split()) or first_heading or first_line(out.text)
    date = document_date(properties.created, properties.modified)
    return out.build(title=title[:200], published=date.date().isoformat() if date else "")


def document_date(created: datetime.datetime | None, modified: datetime.datetime | None) -> datetime.datetime | None:
    """The document's own date from its core properties: when it was created, unless that date is
    a template's (a known template default, or long before the last change: then the last change).

    >>> day = lambda *ymd: datetime.datetime(*ymd, tzinfo=datetime.timezone.utc)
    >>> document_date(day(2024, 3, 1), day(2024, 5, 2)).date(), document_date(day(2006, 1, 1), day(2024, 5, 2)).date()
    (datetime.date(2024, 3, 1), datetime.date(2024, 5, 2))
    >>> document_date(TEMPLATE_DATES[0], TEMPLATE_DATES[0]) is None
    True
    """
    created, modified = (_own_date(date) for date in (created, modified))
    if created is not None and modified is not None and modified - created > TEMPLATE_AGE:
        return modified
    return created or modified


def _own_date(date: datetime.datetime | None) -> datetime.datetime | None:
    if date is None:
        return None
    date = date if date.tzinfo is not None else date.replace(tzinfo=datetime.timezone.utc)   # W3CDTF without a zone
    return None if date in TEMPLATE_DATES else date


def _check_unpacked_size(data: bytes) -> None:
    """Refuse a package whose parts unpack past ``MAX_UNPACKED_BYTES``: first by the sizes its
    directory declares, then by the bytes each part actually inflates to, read a block at a time."""
    limit_mb = MAX_UNPACKED_BYTES // (1024 * 1024)
    refusal = f"skipped: the Word file unpacks to over {limit_mb} MB (a zip bomb?)"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            parts = package.infolist()
            if sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES:
                raise NotParsed(refusal)
            unpacked = 0
            for part in parts:
                with package.open(part) as member:
                    while block := member.read(_READ_BLOCK):
                        unpacked += len(block)
                        if unpacked > MAX_UNPACKED_BYTES:
                            raise NotParsed(refusal)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError) as error:
        raise NotParsed(f"skipped: not a readable Word file ({type(error).__name__})") from None


FORMAT = Format("docx", looks_like_docx, parse, binary=True)
