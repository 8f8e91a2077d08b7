"""Each format from a real file: PDF (pages, outline, scanned and locked files), web page, Word
file and Markdown; and the registry they plug into."""
import importlib
import pkgutil

import pytest

import ingest.formats
from ingest import Chunker, DocumentLoader
from ingest.formats import FORMATS, format_of_bytes
from support import (FORMAT_FIXTURES, make_docx, make_encrypted_pdf, make_pdf, make_scanned_pdf)


def load_one(path):
    loader = DocumentLoader()
    documents = list(loader([path]))
    return documents, loader.warnings


def test_every_format_module_is_registered_once():
    modules = {name for _, name, _ in pkgutil.iter_modules(ingest.formats.__path__)} - {"base"}
    registered = [f.name for f in FORMATS]
    assert len(set(registered)) == len(registered)
    for name in modules:
        assert importlib.import_module(f"ingest.formats.{name}").FORMAT in FORMATS, name
    assert FORMATS[-1].name == "text", "plain text takes whatever no other format claims"


def test_pdf_text_per_page_with_outline_sections_and_page_numbers(tmp_path):
    (document,), warnings = load_one(make_pdf(tmp_path / "kestrel.pdf"))
    assert warnings == [] and document.format == "pdf" and document.title == "Kestrel survey 2021"
    assert [span.label for span in document.pages] == ["1", "2", "3"]
    assert [span.label for span in document.sections] == ["Introduction", "Methods", "Results"]
    assert document.page_at(document.text.index("412 nesting pairs")) == 3
    passages = Chunker(max_tokens=24)(document)
    assert {p.page for p in passages} == {1, 2, 3}
    for passage in passages:
        page = next(span for span in document.pages if span.label == str(passage.page))
        assert page.start <= passage.start < passage.end <= page.end, "a passage never crosses a page"
        assert passage.text == document.text[passage.start:passage.end]


@pytest.mark.parametrize("make, reason", [(make_scanned_pdf, "scanned PDF with no text layer (1 page)"),
                                          (make_encrypted_pdf, "encrypted with a password")])
def test_scanned_and_locked_pdfs_are_one_line_warnings(tmp_path, make, reason):
    documents, warnings = load_one(make(tmp_path / "file.pdf"))
    assert documents == [] and len(warnings) == 1
    assert reason in warnings[0].reason and warnings[0].path == str((tmp_path / "file.pdf").resolve())
    assert "\n" not in warnings[0].reason


def test_web_page_keeps_main_content_title_headings_and_canonical_url():
    (document,), warnings = load_one(FORMAT_FIXTURES / "harbour-ferry.html")
    assert warnings == [] and document.format == "html"
    assert document.title == "Harbour ferry timetable changes | Portside Council"
    assert document.url == "https://portside.example.gov/news/harbour-ferry-timetable"
    assert document.published.startswith("2024-03-05")
    assert "every 20 minutes on weekdays" in document.text and "Weekly pass, Price: £14.00." in document.text
    for boilerplate in ("Skip to main content", "Bins and recycling", "Related news", "We use cookies", "Privacy",
                        "dataLayer", "Home › News"):
        assert boilerplate not in document.text, boilerplate
    sections = {span.label for span in document.sections}
    assert "Harbour ferry timetable changes > Why the timetable is changing > Weekend services" in sections
    offset = document.text.index("half-hourly")
    assert document.section_at(offset).endswith("Weekend services")


def test_word_file_headings_become_section_paths_and_core_properties_title_and_date(tmp_path):
    (document,), warnings = load_one(make_docx(tmp_path / "handbook.docx"))
    assert warnings == [] and document.format == "docx"
    assert (document.title, document.published) == ("Volunteer handbook", "2023-09-01")
    assert document.section_at(document.text.index("lunch voucher")) == "Shifts > Weekend shifts"
    assert "Duty manager, Contact: ext. 204." in document.text


def test_markdown_without_front_matter_has_heading_sections_and_bare_link_text():
    (document,), warnings = load_one(FORMAT_FIXTURES / "allotment-notes.md")
    assert warnings == [] and (document.format, document.title) == ("markdown", "Allotment notes")
    assert "north side of the Elm Road allotments, next to the water trough" in document.text
    assert "](" not in document.text and "soil.jpg" not in document.text and "**" not in document.text
    assert document.section_at(document.text.index("pH of 6.4")) == "Allotment notes > Soil"


def test_a_zip_that_is_not_a_word_file_is_still_refused_as_binary(tmp_path):
    import zipfile

    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("a.txt", "hello")
    assert format_of_bytes(archive.read_bytes()) is None
    documents, warnings = load_one(archive)
    assert documents == [] and "binary file" in warnings[0].reason


def test_a_page_whose_frame_has_a_boilerplate_like_class_keeps_its_content():
    from ingest.formats import html

    page = ('<html class="light sidebar-visible"><body class="menu-open"><nav id="sidebar">Chapters</nav>'
            '<main class="content"><h1>Ownership</h1><p>Each value has an owner.</p></main></body></html>')
    document = html.parse(page)
    assert "Each value has an owner." in document.text and "Chapters" not in document.text
