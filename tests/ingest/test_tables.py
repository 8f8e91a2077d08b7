"""Tables as "row label, column header: value" statements in every format that has tables; the
header row is never a line of its own."""
import pytest

from ingest.formats import html, markdown, wikitext
from support import make_docx
from ingest.loader import DocumentLoader

PARIS = "Paris, Hotel cap per night: €180; Meal cap: €40."
LYON = "Lyon, Hotel cap per night: €120; Meal cap: €35."

MARKDOWN = ("# Travel policy\n\n| City | Hotel cap per night | Meal cap |\n|---|---|---|\n"
            "| Paris | €180 | €40 |\n| Lyon | €120 | €35 |\n")
HTML = ("<html><body><main><h1>Travel policy</h1><table><thead><tr><th>City</th><th>Hotel cap per night</th>"
        "<th>Meal cap</th></tr></thead><tbody><tr><td>Paris</td><td>€180</td><td>€40</td></tr>"
        "<tr><td>Lyon</td><td>€120</td><td>€35</td></tr></tbody></table></main></body></html>")
WIKITEXT = ("'''Travel policy''' of the [[company]]. See {{lang|fr|voyage}}.\n\n== Caps ==\n"
            "{| class=\"wikitable\"\n! City !! Hotel cap per night !! Meal cap\n|-\n| Paris || €180 || €40\n"
            "|-\n| Lyon || €120 || €35\n|}\n")


@pytest.mark.parametrize("parse, source", [(markdown.parse, MARKDOWN), (html.parse, HTML),
                                           (wikitext.FORMAT.parse, WIKITEXT)], ids=["markdown", "html", "wikitext"])
def test_table_rows_become_row_label_column_header_value_statements(parse, source):
    text = parse(source).text
    assert PARIS in text and LYON in text
    assert "City" not in text and "Hotel cap per night |" not in text


def test_a_word_table_reads_its_first_row_as_the_header(tmp_path):
    (document,) = list(DocumentLoader()([make_docx(tmp_path / "handbook.docx")]))
    assert "Duty manager, Contact: ext. 204." in document.text
    assert "Role" not in document.text
