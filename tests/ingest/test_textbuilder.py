"""Assembling cleaned text (ingest/textbuilder.py): whitespace tidied as it is written, heading
paths as sections, and references attached to the sentence they follow; every offset stays valid.

The text builder's source map: which source lines each stretch of the cleaned text comes from."""
from ingest.textbuilder import RENDERED_BREAK, HeadingPath, TextBuilder
from ingest.types import source_lines
from support import source_lines_of


def test_whitespace_collapses_to_one_space_or_at_most_one_blank_line():
    out = TextBuilder()
    out.write("  Harbour   notes\n\n\n\nThe ferry\tleaves ,at 9 .\n")
    out.write("   ")
    assert out.text == "Harbour notes\n\nThe ferry leaves,at 9."
    out.paragraph_break()
    out.write("Next paragraph.")
    assert out.text.endswith("9.\n\nNext paragraph.") and out.length == len(out.text)


def test_headings_give_section_paths_over_the_text_that_follows_them():
    out = TextBuilder()
    out.write("Preface words.")
    out.heading(1, "History")
    out.write("Founded in 2014.")
    out.heading(2, "2018")
    out.write("Raised money.")
    out.heading(1, "Products")
    out.write("Face recognition.")
    document = out.build(title="SenseTime")
    text = document.text
    assert text == "Preface words.\n\nHistory\nFounded in 2014.\n\n2018\nRaised money.\n\nProducts\nFace recognition."

    def section_of(words):
        offset = text.index(words)
        return next(s.label for s in document.sections if s.start <= offset < s.end)

    assert [section_of(words) for words in ("Preface", "Founded", "Raised", "Face")] == [
        "", "History", "History > 2018", "Products"]
    assert document.sections[-1].end == len(text) and document.title == "SenseTime"
    for before, after in zip(document.sections, document.sections[1:]):
        assert before.end <= after.start


def test_closing_headings_and_the_open_path():
    path = HeadingPath()
    assert path.enter(1, "A") == "A" and path.enter(3, "C") == "A > C" and path.enter(2, "B") == "A > B"
    path.close(2)
    assert path.path == "A"
    out = TextBuilder()
    out.heading(1, "History")
    out.heading(2, "2018")
    out.close_headings(2)
    assert out.section_path() == "History"


def test_a_reference_supports_the_sentence_it_follows():
    out = TextBuilder()
    out.write("SenseTime was founded in 2014.")
    out.add_reference(("http://fortune.com/xu-li/",))
    out.write(" It is based in Hong Kong.")
    out.add_reference(())
    out.write(" Its founder is Tang Xiao'ou.")
    out.add_reference(("https://a.example", "https://b.example"))
    document = out.build()
    assert [(document.text[r.start:r.end], r.label) for r in document.refs] == [
        ("SenseTime was founded in 2014.", "http://fortune.com/xu-li/"),
        ("Its founder is Tang Xiao'ou.", "https://a.example"), ("Its founder is Tang Xiao'ou.", "https://b.example")]
    assert TextBuilder().build().refs == () and TextBuilder().build().text == ""


def test_newlines_of_the_sources_own_text_move_the_line_even_where_whitespace_collapses():
    out = TextBuilder()
    out.at_source(1)
    out.write("Title\n\n\n\nFirst   line\nsecond line\n")
    document = out.build()
    assert document.text == "Title\n\nFirst line\nsecond line"
    assert source_lines_of(document, "Title") == (1, 1) and source_lines_of(document, "First line\nsecond") == (5, 6)


def test_a_rendered_range_stays_on_its_lines_and_a_rendered_break_moves_no_line():
    out = TextBuilder()
    out.at_source(3, 7)
    out.write("Row one.\nRow two.\n")
    out.at_source(9)
    out.write(f"Rain{RENDERED_BREAK}sun\nwind")
    document = out.build()
    assert document.text == "Row one.\nRow two.\nRain\nsun\nwind"
    assert source_lines_of(document, "Row two.") == (3, 7)
    assert source_lines_of(document, "Rain\nsun") == (9, 9) and source_lines_of(document, "wind") == (10, 10)


def test_text_written_before_any_source_line_has_no_map():
    out = TextBuilder()
    out.write("Generated.")
    assert out.build().source_map == () and source_lines((), 0, 5) is None
