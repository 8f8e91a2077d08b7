"""Reading a file's bytes into text (ingest/reader.py): encodings, empty, binary and oversized files."""
import hashlib

import pytest

from ingest.reader import (MB, UnreadableFile, check_size, decode_text, file_digest, looks_binary, read_bytes,
                           read_text)


def test_utf8_with_or_without_a_bom_and_its_hash():
    data = "Café au lait\n".encode("utf-8-sig")
    raw = decode_text(data)
    assert raw.text == "Café au lait\n" and raw.warning == ""
    assert raw.content_hash == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_or_without_a_byte_order_mark(encoding):
    text = "Harbour ferry timetable: the first boat leaves at 7:10.\n" * 3
    assert decode_text(text.encode(encoding)).text == text


def test_text_that_is_not_utf8_is_read_as_windows_1252_with_a_warning():
    raw = decode_text("Smörgåsbord costs £5".encode("cp1252"))
    assert raw.text == "Smörgåsbord costs £5"
    assert raw.warning == "not valid UTF-8 (byte 0xf6 at offset 2); read as Windows-1252"


@pytest.mark.parametrize("data, reason", [(b"", "empty"), (b" \n\t ", "empty"), (b"\x7fELF\x02\x01", "binary"),
                                          (b"%PDF-1.7 ...", "binary"), (b"text\x00with a nul", "binary"),
                                          (bytes(range(1, 32)) * 10, "binary")])
def test_empty_and_binary_content_is_refused_in_one_line(data, reason):
    with pytest.raises(UnreadableFile, match=reason):
        decode_text(data)
    assert looks_binary(data) == (reason == "binary")


def test_files_over_the_limit_folders_and_digests(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (MB + 1))
    with pytest.raises(UnreadableFile, match=r"^skipped: 1\.0 MB is over the 1 MB limit per file$"):
        check_size(big, max_bytes=MB)
    with pytest.raises(UnreadableFile, match="a folder, not a file"):
        read_bytes(tmp_path)
    assert file_digest(big) == hashlib.sha256(b"a" * (MB + 1)).hexdigest()
    (tmp_path / "note.txt").write_text("Note one.")
    assert read_text(tmp_path / "note.txt").text == "Note one."
