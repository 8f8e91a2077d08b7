"""Streaming pages out of a MediaWiki dump (ingest/mediawiki_dump.py), plain or bzip2."""
import bz2

import pytest

from ingest.mediawiki_dump import DumpTruncated, is_mediawiki_dump, iter_dump_pages

NS = "http://www.mediawiki.org/xml/export-0.10/"


def dump(*pages) -> bytes:
    body = "".join(f"<page><title>{title}</title><ns>{ns}</ns><revision><text>{text}</text></revision></page>"
                   for title, ns, text in pages)
    return f'<mediawiki xmlns="{NS}"><siteinfo><sitename>Test</sitename></siteinfo>{body}</mediawiki>'.encode()


PAGES = [("SenseTime", "0", "'''SenseTime''' is a company."), ("Talk:SenseTime", "1", "A talk page."),
         ("Broken", "zero", "Bad namespace.")]


@pytest.mark.parametrize("name, pack", [("dump.xml", lambda data: data), ("dump.xml.bz2", bz2.compress)])
def test_pages_come_out_in_order_with_namespace_and_problems(tmp_path, name, pack):
    path = tmp_path / name
    path.write_bytes(pack(dump(*PAGES)))
    assert is_mediawiki_dump(path)
    pages = list(iter_dump_pages(path, max_page_bytes=1000))
    assert [(p.title, p.namespace, p.text) for p in pages[:2]] == [
        ("SenseTime", 0, "'''SenseTime''' is a company."), ("Talk:SenseTime", 1, "A talk page.")]
    assert pages[2].problem == "its namespace 'zero' is not a number" and pages[2].text == ""


def test_a_page_over_the_size_limit_comes_back_empty_with_its_problem(tmp_path):
    path = tmp_path / "dump.xml"
    path.write_bytes(dump(("Huge", "0", "x" * 5000), ("Small", "0", "fine")))
    huge, small = iter_dump_pages(path, max_page_bytes=1000)
    assert huge.text == "" and "over the" in huge.problem and small.text == "fine"


def test_concatenated_bzip2_streams_read_as_one_and_a_cut_keeps_the_pages_before_it(tmp_path):
    data = dump(*[(f"Page {n}", "0", f"Text {n}.") for n in range(40)])
    path = tmp_path / "multi.xml.bz2"
    middle = len(data) // 2
    path.write_bytes(bz2.compress(data[:middle]) + bz2.compress(data[middle:]))
    assert len(list(iter_dump_pages(path, 1000))) == 40
    cut = tmp_path / "cut.xml.bz2"
    cut.write_bytes(path.read_bytes()[: len(bz2.compress(data[:middle])) + 50])
    read = []
    with pytest.raises(DumpTruncated) as truncated:
        for page in iter_dump_pages(cut, 1000):
            read.append(page)
    assert truncated.value.pages == len(read) > 0 and "truncated" in truncated.value.reason


def test_the_decompressed_size_is_capped_and_other_files_are_not_dumps(tmp_path):
    path = tmp_path / "dump.xml"
    path.write_bytes(dump(*[(f"Page {n}", "0", "words " * 50) for n in range(100)]))
    with pytest.raises(DumpTruncated, match="limit per dump"):
        list(iter_dump_pages(path, 10_000, max_dump_bytes=5000))
    (tmp_path / "notes.xml").write_text("<notes><note>Not a wiki.</note></notes>")
    assert not is_mediawiki_dump(tmp_path / "notes.xml")
    (tmp_path / "empty.bz2").write_bytes(bz2.compress(b"")[:10])
    with pytest.raises(DumpTruncated, match="ends before its first complete block"):
        is_mediawiki_dump(tmp_path / "empty.bz2")
