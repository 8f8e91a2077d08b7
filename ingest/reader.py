"""Read a file's bytes into text, refusing what is not a text document."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MB
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x7fELF", b"\x1f\x8b", b"BZh")


class UnreadableFile(Exception):
    """The file cannot be ingested; the message is a one-line reason."""


@dataclass(frozen=True)
class RawText:
    text: str
    content_hash: str
    warning: str = ""


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, read in blocks so a multi-GB dump costs no memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> RawText:
    return decode_text(read_bytes(path, max_bytes))


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A file's bytes, or ``UnreadableFile`` with the reason: too big, not readable, a folder."""
    try:
        check_size(path, max_bytes)
        data = path.read_bytes()
    except PermissionError:
        raise UnreadableFile("skipped: cannot read: permission denied") from None
    except IsADirectoryError:
        raise UnreadableFile("skipped: a folder, not a file") from None
    return data


def check_size(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """``UnreadableFile`` for a file over ``max_bytes``, judged from its size alone: nothing is read.
    Sizes are in MB of 1024 * 1024 bytes, so the default limit reads "20 MB", as documented."""
    size = path.stat().st_size
    if size > max_bytes:
        raise UnreadableFile(f"skipped: {size / MB:.1f} MB is over the {max_bytes / MB:g} MB limit per file")


def decode_text(data: bytes) -> RawText:
    content_hash = hashlib.sha256(data).hexdigest()
    utf16 = _utf16_encoding(data)
    if utf16:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            text = data.decode(utf16, errors="replace")
        if not text.strip():
            raise UnreadableFile("skipped: the file is empty")
        return RawText(text.lstrip("\ufeff"), content_hash)
    if not data.strip():
        raise UnreadableFile("skipped: the file is empty")
    if looks_binary(data):
        raise UnreadableFile("skipped: binary file, not a text document")
    try:
        return RawText(data.decode("utf-8-sig"), content_hash)
    except UnicodeDecodeError as error:
        text = data.decode("cp1252", errors="replace")
        return RawText(text, content_hash, f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); read as Windows-1252")


def _utf16_encoding(data: bytes) -> str | None:
    """``utf-16`` for a byte-order mark, ``utf-16-le``/``-be`` for BOM-less text whose every other byte is NUL."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    head = data[:4096]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    even_nuls, odd_nuls = even.count(0) / len(even), odd.count(0) / len(odd)
    # Latin text in UTF-16 has a NUL in the high byte of nearly every code unit and almost none in the low.
    if odd_nuls > 0.4 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        return True
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13))
    return control > len(head) * 0.05
