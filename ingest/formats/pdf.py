"""PDF (pypdfium2, PDFium's text layer): text per page, every page a region with its number, and
the outline's bookmarks as section paths. A PDF locked with a password is skipped with a one-line reason.

A page without a text layer (a scan) is rendered and read by Tesseract where the ``ocr`` extra and
the ``tesseract`` binary are installed (``ocr_available()``), and cited by its page like any other;
where they are not, it is left out with a one-line warning that says how to enable OCR (a PDF with
no text at all is skipped with it). OCR is capped in pages, render size and time.

PDFium runs in a worker process of its own, under a memory limit and a time limit: a 148 KB file
whose content stream inflates to page objects by the million took 2.1 GB in the caller before.
The pages read and the text kept per page and per file are capped too, each cap with a warning.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from ingest.formats.base import Format, NotParsed, ParsedDocument
from ingest.formats.text import first_line
from ingest.textbuilder import HeadingPath, TextBuilder
from ingest.types import SourceMark, Span

PAGE_BREAK = "\n\n"
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})(\d{2})")
MB = 1024 * 1024
# The worker's whole address space: the interpreter and PDFium take about 60 MB of it.
WORKER_MEMORY_BYTES = 768 * MB
MAX_PAGES = 5000
MAX_PAGE_CHARS = 200_000          # about 60 pages of dense print: no real page holds more
MAX_TEXT_CHARS = 20_000_000
_SECONDS_BASE, _SECONDS_PER_MB = 20.0, 3.0
# OCR: Tesseract reads 300 dpi best; a page's picture is held to 12 million pixels (12 MB in grey,
# an A4 page at 300 dpi is 8.7) whatever size the page claims. A page takes Tesseract about 0.5 s here.
OCR_DPI = 300
MAX_OCR_PIXELS = 12_000_000
MAX_OCR_PAGES = 200
OCR_SECONDS_PER_PAGE = 60.0
OCR_SECONDS_PER_FILE = 300.0
OCR_HINT = "pip install 'docqa[ocr]' and Tesseract (apt-get install tesseract-ocr)"
_REQUEST = struct.Struct("!Q?")   # the PDF's length, and whether to OCR the pages without text
_LENGTH = struct.Struct("!Q")


def looks_like_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def ocr_available() -> bool:
    """Whether pages without a text layer can be read by OCR: pytesseract (the ``ocr`` extra) and
    the ``tesseract`` binary it runs are both installed."""
    return importlib.util.find_spec("pytesseract") is not None and shutil.which("tesseract") is not None


def parse(data: bytes) -> ParsedDocument:
    """The PDF's text, read by PDFium (and Tesseract) in the worker process within its memory and time limits."""
    return _WORKER.parse(data, ocr=ocr_available())


class _Worker:
    """One long-lived ``python -m ingest.formats.pdf`` child, restarted after it dies or hangs.
    Requests and replies are length-prefixed: the PDF's bytes in, the parsed document as JSON out."""

    def __init__(self):
        self._lock = threading.Lock()   # one PDF at a time: the server parses from several threads
        self._process: subprocess.Popen | None = None
        self._served = 0

    def parse(self, data: bytes, ocr: bool = False) -> ParsedDocument:
        with self._lock:
            try:
                return self._ask(data, ocr)
            except _WorkerDied:
                if self._served == 0:
                    raise NotParsed(f"skipped: reading the PDF needs over {WORKER_MEMORY_BYTES // MB} MB of memory "
                                    "(a content-stream bomb?)") from None
                # Memory left over from earlier files may be what ran out: one more try, from fresh.
                try:
                    return self._ask(data, ocr)
                except _WorkerDied:
                    raise NotParsed(f"skipped: reading the PDF needs over {WORKER_MEMORY_BYTES // MB} MB of "
                                    "memory (a content-stream bomb?)") from None

    def _ask(self, data: bytes, ocr: bool) -> ParsedDocument:
        process = self._start()
        seconds = _SECONDS_BASE + _SECONDS_PER_MB * len(data) / MB
        deadline = time.monotonic() + seconds
        try:
            process.stdin.write(_REQUEST.pack(len(data), ocr) + data)
            process.stdin.flush()
            reply = _read_reply(process.stdout, deadline)
            if "ocr_pages" in reply:
                # The text layer is read; OCR of that many pages follows, within the worker's own caps.
                ocr_seconds = min(OCR_SECONDS_PER_FILE, OCR_SECONDS_PER_PAGE * reply["ocr_pages"]) + _SECONDS_BASE
                seconds += ocr_seconds
                reply = _read_reply(process.stdout, time.monotonic() + ocr_seconds)
        except TimeoutError:
            self._stop()
            raise NotParsed(f"skipped: reading the PDF took over {seconds:.0f} s") from None
        except (OSError, EOFError, ValueError):
            self._stop()
            raise _WorkerDied from None
        self._served += 1
        if "skipped" in reply:
            raise NotParsed(reply["skipped"])
        return _document_from_json(reply["document"])

    def _start(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            root = str(Path(__file__).resolve().parents[2])
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
                   "OMP_THREAD_LIMIT": "1"}   # Tesseract on one core: the embedder needs the others
            self._process = subprocess.Popen([sys.executable, "-m", "ingest.formats.pdf"], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
            self._served = 0
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


class _WorkerDied(Exception):
    pass


_WORKER = _Worker()


def _read_exact(stream, size: int, deadline: float) -> bytes:
    chunks, left = [], size
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([stream], [], [], remaining)[0]:
            raise TimeoutError
        chunk = os.read(stream.fileno(), min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_reply(stream, deadline: float) -> dict:
    size = _LENGTH.unpack(_read_exact(stream, _LENGTH.size, deadline))[0]
    return json.loads(_read_exact(stream, size, deadline))


def _write_reply(stream, reply: dict) -> None:
    body = json.dumps(reply).encode()
    stream.write(_LENGTH.pack(len(body)) + body)
    stream.flush()


def _document_from_json(fields: dict) -> ParsedDocument:
    spans = {name: tuple(Span(**span) for span in fields[name]) for name in ("sections", "refs", "pages")}
    marks = tuple(SourceMark(**mark) for mark in fields.get("source_map", ()))   # a PDF has pages, not lines
    return ParsedDocument(**{**fields, **spans, "source_map": marks})


def _serve() -> None:
    """The worker's loop: limit the memory, then answer one PDF after another until stdin closes."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    while header := requests.read(_REQUEST.size):
        size, ocr = _REQUEST.unpack(header)
        data = requests.read(size)
        try:
            document = parse_here(data, ocr, on_ocr=lambda pages: _write_reply(replies, {"ocr_pages": pages}))
            reply = {"document": asdict(document)}
        except NotParsed as reason:
            reply = {"skipped": str(reason)}
        except MemoryError:
            reply = {"skipped": f"skipped: reading the PDF needs over {WORKER_MEMORY_BYTES // MB} MB of memory "
                                "(a content-stream bomb?)"}
        except Exception as error:  # a PDFium failure on one file must not end the worker
            reply = {"skipped": f"skipped: could not parse ({type(error).__name__}: {' '.join(str(error).split())[:120]})"}
        _write_reply(replies, reply)


def parse_here(data: bytes, ocr: bool = False, on_ocr=None) -> ParsedDocument:
    """The PDF's text, read in this process: no memory limit but the caps on pages, text and OCR.
    With ``ocr``, the pages without a text layer are read by Tesseract; ``on_ocr(pages)`` is told
    how many first (the worker tells its caller, whose deadline grows by their time)."""
    import pypdfium2 as pdfium   # here, not at the top: every qa command imports the registry

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise NotParsed("skipped: the PDF is encrypted with a password; save an unlocked copy to index it") from None
        raise NotParsed(f"skipped: not a readable PDF ({' '.join(str(error).split())[:100]})") from None
    notes = []
    try:
        page_count = len(pdf)
        if page_count > MAX_PAGES:
            notes.append(f"only the first {MAX_PAGES:,} of {page_count:,} pages are indexed")
        page_texts, kept = [], 0
        for index in range(min(page_count, MAX_PAGES)):
            text, cut = _page_text(pdf, index)
            if cut:
                notes.append(f"page {index + 1} holds over {MAX_PAGE_CHARS:,} characters: the rest of it is left out")
            if kept + len(text) > MAX_TEXT_CHARS:
                notes.append(f"the text stops at page {index} ({MAX_TEXT_CHARS:,} characters)")
                break
            page_texts.append(text)
            kept += len(text)
        # A page with no text but something drawn on it is a scan; one with nothing at all is just blank.
        blank = [index for index, text in enumerate(page_texts) if not text.strip() and _draws_something(pdf, index)]
        ocr_notes = []
        if blank and ocr:
            if on_ocr is not None:
                on_ocr(min(len(blank), MAX_OCR_PAGES))
            ocr_notes = _ocr_pages(pdf, blank, page_texts)
            notes = ocr_notes + notes
        elif blank:
            them = "it" if len(blank) == 1 else "them"
            notes.insert(0, f"{_pages_phrase(blank, 'has', 'have')} no text layer and "
                            f"{'is' if len(blank) == 1 else 'are'} left out; to index {them} by OCR, {OCR_HINT}")
        if not any(text.strip() for text in page_texts):
            count = len(page_texts)
            if not ocr:
                found = f"; to index it by OCR, {OCR_HINT}"
            else:   # what went wrong with OCR, where something did
                found = "; " + "; ".join(ocr_notes) if ocr_notes else ", and OCR found no text in it"
            raise NotParsed(f"skipped: a scanned PDF with no text layer ({count} page{'s' * (count != 1)}){found}")
        bookmarks = _bookmarks(pdf)
        metadata = pdf.get_metadata_dict(skip_empty=True)
    finally:
        pdf.close()
    text, pages = _join_pages(page_texts)
    sections = _sections(text, pages, bookmarks)
    title = " ".join((metadata.get("Title") or "").split()) or first_line(text)
    dated = _PDF_DATE.match(metadata.get("CreationDate") or "")
    published = f"{dated[1]}-{dated[2]}-{dated[3]}" if dated else ""
    return ParsedDocument(text, title[:200], sections, pages=pages, published=published, warning="; ".join(notes[:3]))


def _draws_something(pdf, index: int) -> bool:
    page = pdf[index]
    try:
        return next(page.get_objects(max_depth=1), None) is not None
    finally:
        page.close()


def _pages_named(indexes: list[int]) -> str:
    """"page 2" or "pages 2, 5 and 7" (numbered from 1; at most 5 named, then "and 9 more").

    >>> _pages_named([1]), _pages_named([1, 4, 6]), _pages_named(list(range(8)))
    ('page 2', 'pages 2, 5 and 7', 'pages 1, 2, 3, 4, 5 and 3 more')
    """
    numbers = [str(index + 1) for index in indexes[:5]] + ([f"{len(indexes) - 5} more"] if len(indexes) > 5 else [])
    return f"page {numbers[0]}" if len(numbers) == 1 else f"pages {', '.join(numbers[:-1])} and {numbers[-1]}"


def _pages_phrase(indexes: list[int], singular: str, plural: str) -> str:
    return f"{_pages_named(indexes)} {singular if len(indexes) == 1 else plural}"


def _ocr_pages(pdf, indexes: list[int], page_texts: list[str]) -> list[str]:
    """Read the pages at ``indexes`` by OCR into ``page_texts``, within ``MAX_OCR_PAGES`` and
    ``OCR_SECONDS_PER_FILE``; the notes for the document's warning."""
    read, failed, notes = [], [], []
    deadline = time.monotonic() + OCR_SECONDS_PER_FILE
    for position, index in enumerate(indexes):
        left = deadline - time.monotonic()
        if position == MAX_OCR_PAGES or left <= 0:
            cap = f"the cap is {MAX_OCR_PAGES}" if position == MAX_OCR_PAGES else f"{OCR_SECONDS_PER_FILE:.0f} s"
            notes.append(f"OCR stopped after {position} page{'s' * (position != 1)} ({cap}): "
                         f"{_pages_phrase(indexes[position:], 'is', 'are')} left out")
            break
        try:
            text = _ocr_image(_render(pdf, index), min(OCR_SECONDS_PER_PAGE, left))
        except RuntimeError:   # pytesseract: a timeout, or Tesseract failing on the picture
            failed.append(index)
            continue
        builder = TextBuilder()
        builder.write(text.replace("\x0c", "\n"))
        if builder.text:   # a picture without words (a photograph, a blank scan) stays out, unremarked
            page_texts[index] = builder.text
            read.append(index)
    if read:
        notes.insert(0, f"{_pages_phrase(read, 'has', 'have')} no text layer: "
                        f"{'its' if len(read) == 1 else 'their'} text was read by OCR (Tesseract)")
    if failed:
        notes.append(f"OCR failed on {_pages_named(failed)} (Tesseract timed out or could not read the picture)")
    return notes


def _render(pdf, index: int):
    """The page as a greyscale picture at ``OCR_DPI``, or smaller where that would pass ``MAX_OCR_PIXELS``."""
    page = pdf[index]
    try:
        width, height = page.get_size()
        # (+1: the bitmap's sides are rounded up to whole pixels)
        scale = min(OCR_DPI / 72, math.sqrt(MAX_OCR_PIXELS / ((width + 1) * (height + 1))))
        bitmap = page.render(scale=scale, grayscale=True)
        try:
            return bitmap.to_pil().copy()   # a copy: the picture must outlive PDFium's buffer
        finally:
            bitmap.close()
    finally:
        page.close()


def _ocr_image(image, seconds: float) -> str:
    """The text Tesseract reads in ``image``; RuntimeError past ``seconds`` (pytesseract kills it)."""
    import pytesseract

    try:
        return pytesseract.image_to_string(image, timeout=seconds)
    except pytesseract.TesseractError as error:
        raise RuntimeError(str(error)) from None


def _page_text(pdf, index: int) -> tuple[str, bool]:
    """The page's text, at most ``MAX_PAGE_CHARS`` of it, and whether it was cut."""
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            count = textpage.count_chars()
            text = textpage.get_text_range(0, min(count, MAX_PAGE_CHARS))
        finally:
            textpage.close()
    finally:
        page.close()
    builder = TextBuilder()
    builder.write(text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""))
    return builder.text, count > MAX_PAGE_CHARS


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

if __name__ == "__main__":
    _serve()
