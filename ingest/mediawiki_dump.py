"""Stream pages out of a MediaWiki XML dump (optionally bzip2-compressed)."""
from __future__ import annotations

import bz2
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


@dataclass(frozen=True)
class DumpPage:
    title: str
    namespace: int
    text: str


def is_mediawiki_dump(path: Path) -> bool:
    try:
        with _open(path) as stream:
            head = stream.read(512)
    except (OSError, EOFError):
        return False
    return b"<mediawiki" in head


def iter_dump_pages(path: Path) -> Iterator[DumpPage]:
    """Yield every page, clearing parsed elements as it goes so memory stays flat."""
    with _open(path) as stream:
        for _, element in ET.iterparse(stream, events=("end",)):
            if _local(element.tag) != "page":
                continue
            title = namespace = text = None
            for child in element.iter():
                tag = _local(child.tag)
                if tag == "title":
                    title = child.text or ""
                elif tag == "ns":
                    namespace = int(child.text or 0)
                elif tag == "text":
                    text = child.text or ""
            element.clear()
            yield DumpPage(title or "", namespace or 0, text or "")


def _open(path: Path):
    return bz2.open(path, "rb") if path.suffix == ".bz2" else open(path, "rb")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
