"""Stream pages out of a MediaWiki XML dump (optionally bzip2-compressed).

A dump is untrusted input: one bad page is reported and skipped on its own, a truncated file keeps
every page read before the cut, and the decompressed size is capped so a tiny archive cannot
expand without bound.
"""
from __future__ import annotations

import bz2
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ingest.reader import MB

# A whole dump may be large (enwiki pieces run to tens of GB); the cap only stops a bomb.
DEFAULT_MAX_DUMP_BYTES = 64 * 1024 ** 3


@dataclass(frozen=True)
class DumpPage:
    """One ``<page>``; ``problem`` says why it cannot be used (its text is then empty)."""

    title: str
    namespace: int
    text: str
    problem: str = ""


class DumpTruncated(Exception):
    """The dump ends mid-stream; ``pages`` pages were read before the cut."""

    def __init__(self, pages: int, reason: str):
        super().__init__(reason)
        self.pages = pages
        self.reason = reason


class _CappedReader:
    """A file-like view that refuses to hand out more than ``limit`` bytes."""

    def __init__(self, stream, limit: int):
        self.stream = stream
        self.limit = limit
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.consumed += len(data)
        if self.consumed > self.limit:
            raise _TooLarge(f"decompresses to over {self.limit / 1e9:.1f} GB, the limit per dump")
        return data


class _TooLarge(Exception):
    pass


def is_mediawiki_dump(path: Path) -> bool:
    """True for a MediaWiki export; raises ``DumpTruncated`` for a bzip2 file cut before any text."""
    try:
        with _open(path) as stream:
            head = stream.read(512)
    except EOFError:
        raise DumpTruncated(0, "the bzip2 archive ends before its first complete block") from None
    except (OSError, ValueError):
        return False
    return b"<mediawiki" in head


def iter_dump_pages(path: Path, max_page_bytes: int, max_dump_bytes: int = DEFAULT_MAX_DUMP_BYTES) -> Iterator[DumpPage]:
    """Yield every page, clearing parsed elements as it goes so memory stays flat.

    Pages over ``max_page_bytes`` and pages with malformed fields come back with ``problem`` set.
    Raises ``DumpTruncated`` after the last readable page of a cut-off or over-large dump.
    """
    pages = 0
    with _open(path) as raw:
        stream = _CappedReader(raw, max_dump_bytes)
        try:
            for _, element in ET.iterparse(stream, events=("end",)):
                if _local(element.tag) != "page":
                    continue
                pages += 1
                yield _page(element, max_page_bytes)
                element.clear()
        except EOFError:
            raise DumpTruncated(pages, "the bzip2 archive is truncated") from None
        except ET.ParseError as error:
            raise DumpTruncated(pages, f"the XML breaks off or is malformed ({error})") from None
        except _TooLarge as error:
            raise DumpTruncated(pages, str(error)) from None
        except OSError as error:
            raise DumpTruncated(pages, f"the archive is damaged ({error})") from None


def _page(element: ET.Element, max_page_bytes: int) -> DumpPage:
    title, namespace, text = "", "0", ""
    for child in element.iter():
        tag = _local(child.tag)
        if tag == "title":
            title = child.text or ""
        elif tag == "ns":
            namespace = (child.text or "0").strip()
        elif tag == "text":
            text = child.text or ""
    if not namespace.lstrip("-").isdigit():
        return DumpPage(title, -1, "", f"its namespace {namespace[:20]!r} is not a number")
    size = len(text.encode("utf-8", errors="replace"))
    if size > max_page_bytes:
        return DumpPage(title, int(namespace), "",
                        f"{size / MB:.1f} MB of wikitext is over the {max_page_bytes / MB:g} MB limit per page")
    return DumpPage(title, int(namespace), text)


class _Bzip2Reader:
    """bzip2 streams decoded block by block: unlike ``bz2.open``, a truncated file first hands out
    every byte that could be decoded, and only then raises ``EOFError``."""

    def __init__(self, path: Path):
        self.raw = open(path, "rb")
        self.decompressor = bz2.BZ2Decompressor()
        self.pending = b""
        self.finished = False

    def read(self, size: int = -1) -> bytes:
        size = size if size and size > 0 else 1 << 20
        while len(self.pending) < size and not self.finished:
            if self.decompressor.eof:
                leftover = self.decompressor.unused_data
                block = leftover or self.raw.read(1 << 16)
                if not block:
                    self.finished = True
                    break
                self.decompressor = bz2.BZ2Decompressor()  # concatenated streams (pbzip2, lbzip2)
            else:
                block = self.raw.read(1 << 16)
                if not block:
                    if self.pending:
                        break
                    raise EOFError("compressed file ended before the end-of-stream marker")
            self.pending += self.decompressor.decompress(block)
        data, self.pending = self.pending[:size], self.pending[size:]
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.raw.close()


def _open(path: Path):
    return _Bzip2Reader(path) if path.suffix == ".bz2" else open(path, "rb")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
