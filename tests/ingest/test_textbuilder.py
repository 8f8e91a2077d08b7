"""The text builder's source map: which source lines each stretch of the cleaned text comes from."""
from ingest.textbuilder import RENDERED_BREAK, TextBuilder
from ingest.types import source_lines


def _lines_of(document, needle):
    start = document.text.index(needle)
    return source_lines(document.source_map, start, start + len(needle))


def test_newlines_of_the_sources_own_text_move_the_line_even_where_whitespace_collapses():
    out = TextBuilder()
    out.at_source(1)
    out.write("Title\n\n\n\nFirst   line\nsecond line\n")
    document = out.build()
    assert document.text == "Title\n\nFirst line\nsecond line"
    assert _lines_of(document, "Title") == (1, 1) and _lines_of(document, "First line\nsecond") == (5, 6)


def test_a_rendered_range_stays_on_its_lines_and_a_rendered_break_moves_no_line():
    out = TextBuilder()
    out.at_source(3, 7)
    out.write("Row one.\nRow two.\n")
    out.at_source(9)
    out.write(f"Rain{RENDERED_BREAK}sun\nwind")
    document = out.build()
    assert document.text == "Row one.\nRow two.\nRain\nsun\nwind"
    assert _lines_of(document, "Row two.") == (3, 7)
    assert _lines_of(document, "Rain\nsun") == (9, 9) and _lines_of(document, "wind") == (10, 10)


def test_text_written_before_any_source_line_has_no_map():
    out = TextBuilder()
    out.write("Generated.")
    assert out.build().source_map == () and source_lines((), 0, 5) is None
