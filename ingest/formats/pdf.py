"""PDF (pypdfium2, PDFium's text layer): text per page, every page a region with its number, and
the outline's bookmarks as section paths. A scanned PDF with no text layer, and one locked with a
password, are skipped with a one-line reason.

PDFium runs in a worker process of its own, under a memory limit and a time limit: a 148 KB file
whose content stream inflates to page objects by the million took 2.1 GB in the caller before.
The pages read and the text kept per page and per file are capped too, each cap with a warning.
"""
from __future__ import annotations

import json
import os
import re
import select
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
_LENGTH = struct.Struct("!Q")


def looks_like_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def parse(data: bytes) -> ParsedDocument:
    """The PDF's text, read by PDFium in the worker process within its memory and time limits."""
    return _WORKER.parse(data)


class _Worker:
    """One long-lived ``python -m ingest.formats.pdf`` child, restarted after it dies or hangs.
    Requests and replies are length-prefixed: the PDF's bytes in, the parsed document as JSON out."""

    def __init__(self):
        self._lock = threading.Lock()   # one PDF at a time: the server parses from several threads
        self._process: subprocess.Popen | None = None
        self._served = 0

    def parse(self, data: bytes) -> ParsedDocument:
        with self._lock:
            try:
                return self._ask(data)
            except _WorkerDied:
                if self._served == 0:
                    raise NotParsed(f"skipped: reading the PDF needs over {WORKER_MEMORY_BYTES // MB} MB of memory "
                                    "(a content-stream bomb?)") from None
                # Memory left over from earlier files may be what ran out: one more try, from fresh.
                try:
                    return self._ask(data)
                except _WorkerDied:
                    raise NotParsed(f"skipped: reading the PDF needs over {WORKER_MEMORY_BYTES // MB} MB of "
                                    "memory (a content-stream bomb?)") from None

    def _ask(self, data: bytes) -> ParsedDocument:
        process = self._start()
        seconds = _SECONDS_BASE + _SECONDS_PER_MB * len(data) / MB
        deadline = time.monotonic() + seconds
        try:
            process.stdin.write(_LENGTH.pack(len(data)) + data)
            process.stdin.flush()
            size = _LENGTH.unpack(_read_exact(process.stdout, _LENGTH.size, deadline))[0]
            reply = json.loads(_read_exact(process.stdout, size, deadline))
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
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
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


def _document_from_json(fields: dict) -> ParsedDocument:
    spans = {name: tuple(Span(**span) for span in fields[name]) for name in ("sections", "refs", "pages")}
    marks = tuple(SourceMark(**mark) for mark in fields.get("source_map", ()))   # a PDF has pages, not lines
    return ParsedDocument(**{**fields, **spans, "source_map": marks})


def _serve() -> None:
    """The worker's loop: limit the memory, then answer one PDF after another until stdin closes."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    while header := requests.read(_LENGTH.size):
        data = requests.read(_LENGTH.unpack(header)[0])
        try:
            reply = {"document": asdict(parse_here(data))}
        except NotParsed as reason:
            reply = {"skipped": str(reason)}
        except MemoryError:
            reply = {"skipped": f"skipped: reading the PDF needs over {WORKER_MEMORY_BYTES // MB} MB of memory "
                                "(a content-stream bomb?)"}
        except Exception as error:  # a PDFium failure on one file must not end the worker
            reply = {"skipped": f"skipped: could not parse ({type(error).__name__}: {' '.join(str(error).split())[:120]})"}
        body = json.dumps(reply).encode()
        replies.write(_LENGTH.pack(len(body)) + body)
        replies.flush()


def parse_here(data: bytes) -> ParsedDocument:
    """The PDF's text, read in this process: no memory limit but the caps on pages and text."""
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
    return ParsedDocument(text, title[:200], sections, pages=pages, published=published, warning="; ".join(notes[:3]))


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
