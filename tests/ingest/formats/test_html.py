"""Web pages: crafted nesting costs bounded time and never a RecursionError."""
import time

from ingest.formats import html
from ingest.loader import DocumentLoader
from support import FORMAT_FIXTURES, source_lines_of


def _nested(tag, depth, text="The deepest sentence survives."):
    return f"<html><head><title>Deep</title></head><body><p>Opening line.</p>{f'<{tag}>' * depth}{text}{f'</{tag}>' * depth}</body></html>"


def test_a_hundred_thousand_nested_divs_parse_in_bounded_time_with_a_warning():
    # issue 21 item 3: 1.1 MB of nested <div> took 86-138 s, holding the build lock all along.
    page = _nested("div", 100_000)
    started = time.process_time()
    document = html.parse(page)
    assert time.process_time() - started < 10
    assert "Opening line." in document.text and "The deepest sentence survives." in document.text
    assert f"deeper than {html.MAX_NESTING}" in document.warning


def test_three_thousand_nested_spans_are_indexed_not_a_recursion_error(tmp_path):
    page = tmp_path / "spans.html"
    page.write_text(_nested("span", 3000))
    loader = DocumentLoader()
    (document,) = list(loader([page]))
    assert "The deepest sentence survives." in document.text
    (warning,) = loader.warnings
    assert f"deeper than {html.MAX_NESTING}" in warning.reason and "\n" not in warning.reason


def test_unclosed_formatting_tags_parse_in_bounded_time():
    page = "<html><body>" + "<b><i>word " * 30_000 + "</body></html>"
    started = time.process_time()
    document = html.parse(page)
    assert time.process_time() - started < 10
    assert document.text.count("word") == 30_000


def test_an_ordinary_page_with_unclosed_paragraphs_and_items_gets_no_warning():
    page = "<html><body><ul>" + "<li><p>Item with an unclosed paragraph." * 2000 + "</ul></body></html>"
    document = html.parse(page)
    assert document.warning == "" and document.text.count("Item with") == 2000


def test_each_text_is_mapped_to_its_line_in_the_page_source(tmp_path):
    page = (FORMAT_FIXTURES / "harbour-ferry.html").read_text(encoding="utf-8")
    lines = page.split("\n")
    document = html.parse(page)
    heading = source_lines_of(document, "Harbour ferry timetable changes")
    assert heading == (21, 21) and "<h1>" in lines[20], "the <title> that says the same is not the heading"
    assert source_lines_of(document, "which enters service on 28 March.") == (25, 25)
    assert source_lines_of(document, "The council added a second\nvessel, the MV Tern") == (24, 25)
    assert source_lines_of(document, "Weekly pass, Price: £14.00.") == (30, 30)


def test_entities_and_a_page_of_many_texts_keep_lines_in_linear_time():
    document = html.parse("<html><body>\n<p>Fish &amp; chips</p>\n<p>Caf&eacute; opens</p>\n</body></html>")
    assert source_lines_of(document, "Fish & chips") == (2, 2) and source_lines_of(document, "Café opens") == (3, 3)
    crafted = "<html><body>" + "<table>stray text<tr><td>x</td></tr></table>\n" * 20000 + "</body></html>"
    started = time.perf_counter()
    html.parse(crafted)
    assert time.perf_counter() - started < 20
