"""PDF pages without a text layer (ingest/formats/pdf.py): read by OCR where the ``ocr`` extra and
Tesseract are installed, cited by page; a one-line warning that says how to enable OCR where not.

The scans are made here: Pillow draws the text into a greyscale picture and saves the pictures as
PDF pages, which carry no text layer, as a scanner's do."""
import json

import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest import DocumentLoader
from ingest.formats import pdf
from qa.cli import main as cli

SEAL_SCAN = [
    ["Harbour seal count 2022", "The count was run by the Portside council", "with twelve volunteers."],
    ["Results", "The volunteers counted 318 grey seals on the sandbank.", "Counting ended on 14 August."],
]
needs_tesseract = pytest.mark.skipif(not pdf.ocr_available(),
                                     reason="OCR needs the ocr extra and Tesseract (apt-get install tesseract-ocr)")


def scanned_page(lines: list[str]) -> Image.Image:
    """An A4 page at 150 dpi with ``lines`` drawn in black, as a scanner would picture it."""
    page = Image.new("L", (1240, 1754), 255)
    draw, font = ImageDraw.Draw(page), ImageFont.load_default(size=36)
    for number, line in enumerate(lines):
        draw.text((100, 150 + 60 * number), line, fill=0, font=font)
    return page


def make_scanned_pdf(path, pages=SEAL_SCAN):
    first, *rest = [scanned_page(lines) for lines in pages]
    first.save(path, "PDF", resolution=150, save_all=True, append_images=rest)
    return path


def make_half_scanned_pdf(path):
    """Page 1 has a text layer (fpdf2), page 2 is a picture of text only."""
    from fpdf import FPDF

    picture = path.with_suffix(".png")
    scanned_page(SEAL_SCAN[1]).save(picture)
    document = FPDF()
    document.set_font("Helvetica", size=12)
    document.add_page()
    document.multi_cell(0, 8, "Harbour seal count 2022\nThe count was run by the Portside council.")
    document.add_page()
    document.image(str(picture), x=0, y=0, w=210)
    document.output(str(path))
    return path


def load_one(path):
    loader = DocumentLoader()
    return list(loader([path])), loader.warnings


def test_no_page_of_the_scans_has_a_text_layer(tmp_path):
    import pypdfium2

    document = pypdfium2.PdfDocument(make_scanned_pdf(tmp_path / "scan.pdf"))
    for index in range(len(document)):
        assert document[index].get_textpage().count_chars() == 0


@needs_tesseract
def test_a_scanned_pdf_is_read_by_ocr_indexed_and_its_answer_cited_by_page(tmp_path, capsys):
    folder, index_dir = tmp_path / "docs", tmp_path / "index"
    folder.mkdir()
    make_scanned_pdf(folder / "seal-count.pdf")
    assert cli(["index", str(folder), "--index", str(index_dir)]) == 0
    assert "1 document" in capsys.readouterr().out

    assert cli(["ask", "How many grey seals did the volunteers count?", "--index", str(index_dir), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["short"] == "318"
    assert (answer["answer_citation"]["source"], answer["answer_citation"]["page"]) == ("seal-count.pdf", 2)
    assert answer["short_citation"]["page"] == 2


@needs_tesseract
def test_ocr_reads_only_the_pages_without_text_and_says_so(tmp_path):
    (document,), warnings = load_one(make_half_scanned_pdf(tmp_path / "half.pdf"))
    assert [span.label for span in document.pages] == ["1", "2"]
    assert document.page_at(document.text.index("Portside council")) == 1
    assert document.page_at(document.text.index("318 grey seals")) == 2
    assert [w.reason for w in warnings] == ["page 2 has no text layer: its text was read by OCR (Tesseract)"]


def test_without_ocr_a_scanned_pdf_is_skipped_with_how_to_enable_ocr_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "ocr_available", lambda: False)
    documents, (warning,) = load_one(make_scanned_pdf(tmp_path / "scan.pdf"))
    assert documents == []
    assert warning.reason == ("skipped: a scanned PDF with no text layer (2 pages); to index it by OCR, "
                              "pip install 'docqa[ocr]' and Tesseract (apt-get install tesseract-ocr)")


def test_without_ocr_a_page_without_text_is_left_out_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "ocr_available", lambda: False)
    (document,), (warning,) = load_one(make_half_scanned_pdf(tmp_path / "half.pdf"))
    assert [span.label for span in document.pages] == ["1"] and "318" not in document.text
    assert warning.reason == ("page 2 has no text layer and is left out; to index it by OCR, "
                              "pip install 'docqa[ocr]' and Tesseract (apt-get install tesseract-ocr)")


def test_ocr_is_capped_in_pages_and_render_size(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "MAX_OCR_PAGES", 1)
    monkeypatch.setattr(pdf, "MAX_OCR_PIXELS", 1_000_000)
    rendered = []
    monkeypatch.setattr(pdf, "_ocr_image", lambda image, seconds: rendered.append(image.size) or "Seal count")
    document = pdf.parse_here(make_scanned_pdf(tmp_path / "scan.pdf").read_bytes(), ocr=True)
    assert [span.label for span in document.pages] == ["1"] and len(rendered) == 1
    width, height = rendered[0]
    assert width * height <= 1_000_000 and width > 500
    assert "OCR stopped after 1 page (the cap is 1): page 2 is left out" in document.warning


def test_a_blank_page_is_neither_read_by_ocr_nor_warned_about(tmp_path, monkeypatch):
    from fpdf import FPDF

    document = FPDF()
    document.set_font("Helvetica", size=12)
    document.add_page()
    document.cell(0, 10, "Minutes of the harbour committee.")
    document.add_page()                       # a separator page: nothing drawn on it
    document.output(str(tmp_path / "minutes.pdf"))
    monkeypatch.setattr(pdf, "_ocr_image", lambda image, seconds: pytest.fail("a blank page was sent to OCR"))
    parsed = pdf.parse_here((tmp_path / "minutes.pdf").read_bytes(), ocr=True)
    assert [span.label for span in parsed.pages] == ["1"] and parsed.warning == ""
    monkeypatch.setattr(pdf, "ocr_available", lambda: False)
    (loaded,), warnings = load_one(tmp_path / "minutes.pdf")
    assert warnings == [] and loaded.text == "Minutes of the harbour committee."


@needs_tesseract
def test_when_tesseract_times_out_on_every_page_the_file_is_skipped_saying_so(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "OCR_SECONDS_PER_PAGE", 0.001)
    with pytest.raises(pdf.NotParsed) as skipped:
        pdf.parse_here(make_scanned_pdf(tmp_path / "scan.pdf").read_bytes(), ocr=True)
    assert str(skipped.value) == ("skipped: a scanned PDF with no text layer (2 pages); OCR failed on pages 1 and 2 "
                                  "(Tesseract timed out or could not read the picture)")
