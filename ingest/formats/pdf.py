"""PDF (pypdfium2, PDFium's text layer): text per page, every page a region with its number, and
the outline's bookmarks as section paths. A scanned PDF with no text layer, and one locked with a
password, are skipped with a one-line reason."""
from __future__ import annotations

import re

from ingest.formats.base import Format, NotParsed, ParsedDocument
from ingest.formats.text import first_line
from ingest.textbuilder import HeadingPath, TextBuilder
from ingest.types import Span

PAGE_BREAK = "\n\n"
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})(\d{2})")


def looks_like_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def parse(data: bytes) -> ParsedDocument:
    import pypdfium2 as pdfium   # here, not at the top: every qa command imports the registry

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise NotParsed("skipped: the PDF is encrypted with a password; save an unlocked copy to index it") from None
        raise NotParsed(f"skipped: not a readable PDF ({' '.join(str(error).split())[:100]})") from None
    try:
        page_texts = [_page_text(pdf, index) for index in range(len(pdf))]
        if not any(text.strip() for text in page_texts):
            count = len(page_texts)
            raise NotParsed(f"skipped: a scanned PDF with no text layer ({count} page{'s' * (count != 1)}); "
                            "run OCR on it (e.g. ocrmypdf) to index it")
        bookmarks = _bookmarks(pdf)
        metadata = pdf.get_metadata_dict(skip_empty=True)
    finally:
        pdf.close()
    text, pages = _join_pages(page_texts)
    sections = _sections(text, pages, bookmarks)
    title = " ".join((metadata.get("Title") or "").split()) or first_line(text)
    dated = _PDF_DATE.match(metadata.get("CreationDate") or "")
    published = f"{dated[1]}-{dated[2]}-{dated[3]}" if dated else ""
    return ParsedDocument(text, title[:200], sections, pages=pages, published=published)


def _page_text(pdf, index: int) -> str:
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
    finally:
        page.close()
    builder = TextBuilder()
    builder.write(text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""))
    return builder.text


def _join_pages(page_texts: list[str]) -> tuple[str, tuple[Span, ...]]:
    """The pages' texts, a blank line between them, and each page's span labelled with its number."""
    parts, pages, position = [], [], 0
    for number, page_text in enumerate(page_texts, start=1):
        if not page_text:
            continue
        if parts:
            parts.append(PAGE_BREAK)
            position += len(PAGE_BREAK)
        pages.append(Span(position, position + len(page_text), str(number)))
        parts.append(page_text)
        position += len(page_text)
    return "".join(parts), tuple(pages)


def _bookmarks(pdf) -> list[tuple[int, str, int]]:
    """``(level, title, page index)`` of each outline entry that points at a page."""
    found = []
    for bookmark in pdf.get_toc(max_depth=8):
        destination = bookmark.get_dest()
        index = destination.get_index() if destination is not None else None
        title = " ".join((bookmark.get_title() or "").split())
        if title and index is not None:
            found.append((bookmark.level + 1, title, index))
    return found


def _sections(text: str, pages: tuple[Span, ...], bookmarks: list[tuple[int, str, int]]) -> tuple[Span, ...]:
    """Regions that tile ``text``, each labelled with the outline path in force: a bookmark takes
    effect where its title appears on its page, else at the top of that page."""
    if not bookmarks:
        return ()
    page_start = {int(span.label) - 1: span for span in pages}
    starts, open_headings = [], HeadingPath()
    for level, title, index in bookmarks:
        page = page_start.get(index)
        if page is None:
            continue
        found = text.find(title, max(page.start, starts[-1][0] if starts else 0), page.end)
        offset = found if found >= 0 else page.start
        if starts and offset < starts[-1][0]:
            offset = starts[-1][0]
        starts.append((offset, open_headings.enter(level, title)))
    sections = []
    if starts and starts[0][0] > 0:
        sections.append(Span(0, starts[0][0], ""))
    for position, (offset, label) in enumerate(starts):
        end = starts[position + 1][0] if position + 1 < len(starts) else len(text)
        if end > offset:
            sections.append(Span(offset, end, label))
    return tuple(sections)


FORMAT = Format("pdf", looks_like_pdf, parse, binary=True)
