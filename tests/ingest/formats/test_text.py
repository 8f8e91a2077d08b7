"""Plain text (ingest/formats/text.py): tidy whitespace, the first line as the title."""
from ingest.formats import format_of_text
from ingest.formats.text import first_line, parse


def test_the_first_non_blank_line_is_the_title_at_most_200_characters():
    assert first_line("\n\n   Harbour notes  \nMore") == "Harbour notes"
    assert first_line("x" * 300) == "x" * 200 and first_line(" \n\t\n") == ""


def test_plain_text_keeps_its_words_and_takes_its_title_from_the_first_line():
    document = parse("Harbour notes\r\n\r\nThe ferry   leaves at 9.\n\n\n\nIt returns at 5.\n")
    assert document.title == "Harbour notes"
    assert "The ferry" in document.text and "It returns at 5." in document.text
    assert "\r" not in document.text and "\n\n\n" not in document.text
    assert format_of_text("just words, nothing else").name == "text"
