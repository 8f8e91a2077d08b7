"""Word files (ingest/formats/docx.py): the document's date from its core properties, never the
date of the template it was made from; a damaged package is a one-line reason.

Word files: the source map numbers paragraphs as python-docx's ``Document.paragraphs`` does."""
import datetime

import docx
import pytest
from ingest.formats import NotParsed
from ingest.formats import docx as docx_format
from ingest.formats.docx import parse
from ingest.types import source_lines
from support import make_docx


UTC = datetime.timezone.utc


def word_file(path, created=None, modified=None):
    """A real Word file (python-docx, which starts from its own template dated 2013-12-23)."""
    document = docx.Document()
    document.add_heading("Allotment rules", level=1)
    document.add_paragraph("Bonfires are allowed from November to February only.")
    if created is not None:
        document.core_properties.created = created
    if modified is not None:
        document.core_properties.modified = modified
    document.save(str(path))
    return path.read_bytes()


def test_the_template_default_date_is_not_the_documents_date(tmp_path):
    data = word_file(tmp_path / "rules.docx")
    assert docx.Document(str(tmp_path / "rules.docx")).core_properties.created.year == 2013   # the template's
    assert docx_format.parse(data).published == ""


def test_a_creation_date_long_before_the_last_change_is_a_templates(tmp_path):
    data = word_file(tmp_path / "rules.docx", created=datetime.datetime(2006, 1, 1, tzinfo=UTC),
                     modified=datetime.datetime(2024, 5, 2, 9, 30, tzinfo=UTC))
    assert docx_format.parse(data).published == "2024-05-02"


def test_the_creation_date_is_the_documents_date_when_it_is_its_own(tmp_path):
    data = word_file(tmp_path / "rules.docx", created=datetime.datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
                     modified=datetime.datetime(2024, 5, 2, 9, 30, tzinfo=UTC))
    assert docx_format.parse(data).published == "2024-03-01"
    only_created = word_file(tmp_path / "handbook.docx", created=datetime.datetime(2023, 9, 1, 10, 0))
    assert docx_format.parse(only_created).published == "2023-09-01"


def test_title_and_section_come_from_the_headings(tmp_path):
    parsed = docx_format.parse(word_file(tmp_path / "rules.docx"))
    assert parsed.title == "Allotment rules"
    assert parsed.text.endswith("Bonfires are allowed from November to February only.")
    assert [span.label for span in parsed.sections if "Bonfires" in parsed.text[span.start:span.end]] == ["Allotment rules"]


def test_a_damaged_word_file_is_a_one_line_reason(tmp_path):
    data = word_file(tmp_path / "rules.docx")
    with pytest.raises(NotParsed, match=r"^skipped: not a readable Word file \(\w+\)$"):
        docx_format.parse(data[: len(data) // 2])


def test_each_paragraph_is_mapped_to_its_number(tmp_path):
    path = make_docx(tmp_path / "handbook.docx")
    document = parse(path.read_bytes())
    paragraphs = docx.Document(str(path)).paragraphs
    for needle in ("Weekend volunteers receive a lunch voucher", "Report every injury", "Safety"):
        start = document.text.index(needle)
        first, last = source_lines(document.source_map, start, start + len(needle))
        assert first == last and needle in paragraphs[first - 1].text
