"""The ingest stage's data (ingest/types.py): a document's section, page and reference look-ups."""
from ingest.types import Document, IngestWarning, Span, WarningKind, document_key, labels_overlapping

TEXT = "Intro text. History part one. Page two starts here."


def document(**spans):
    return Document("d1", "/docs/a.pdf", "a.pdf", "A", TEXT, "pdf", "hash", **spans)


def test_section_and_page_at_an_offset():
    doc = document(sections=(Span(0, 12, "Intro"), Span(12, 29, "History")),
                   pages=(Span(0, 29, "1"), Span(30, len(TEXT), "2")))
    assert doc.section_at(0) == "Intro" and doc.section_at(TEXT.index("History")) == "History"
    assert doc.section_at(len(TEXT) - 1) == "", "past every section"
    assert doc.page_at(TEXT.index("Page two")) == 2 and doc.page_at(0) == 1 and doc.page_at(29) is None
    assert document().page_at(0) is None


def test_reference_urls_overlapping_a_range_in_order_once_each():
    refs = (Span(0, 11, "https://a.example"), Span(12, 29, "https://b.example"), Span(12, 29, "https://a.example"))
    doc = document(refs=refs)
    assert doc.urls_between(0, 5) == ("https://a.example",)
    assert doc.urls_between(5, 20) == ("https://a.example", "https://b.example")
    assert doc.urls_between(29, 40) == () and labels_overlapping((), 0, 10) == ()


def test_a_documents_key_is_its_path_and_page_inside_a_dump():
    assert document_key("/docs/a.txt") == "/docs/a.txt" == document().key.replace(".pdf", ".txt")
    assert document_key("/dumps/wiki.xml.bz2", "SenseTime") == "/dumps/wiki.xml.bz2#SenseTime"
    assert str(IngestWarning("/docs/a.pdf", "skipped: encrypted", kind=WarningKind.SKIPPED)) == "/docs/a.pdf: skipped: encrypted"
