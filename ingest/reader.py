"""Read a file's bytes into text, refusing what is not a text document."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x7fELF", b"\x1f\x8b", b"BZh")


class UnreadableFile(Exception):
    """The file cannot be ingested; the message is a one-line reason."""


@dataclass(frozen=True)
class RawText:
    text: str
    content_hash: str
    warning: str = ""


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> RawText:
    size = path.stat().st_size
    if size > max_bytes:
        raise UnreadableFile(f"skipped: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit per file")
    data = path.read_bytes()
    return decode_text(data)


def decode_text(data: bytes) -> RawText:
    if not data.strip():
        raise UnreadableFile("skipped: the file is empty")
    if looks_binary(data):
        raise UnreadableFile("skipped: binary file, not a text document")
    content_hash = hashlib.sha256(data).hexdigest()
    try:
        return RawText(data.decode("utf-8-sig"), content_hash)
    except UnicodeDecodeError as error:
        text = data.decode("cp1252", errors="replace")
        return RawText(text, content_hash, f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); read as Windows-1252")


def looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        return True
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13))
    return control > len(head) * 0.05
