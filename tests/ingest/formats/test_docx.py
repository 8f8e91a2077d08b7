"""Word files: the source map numbers paragraphs as python-docx's ``Document.paragraphs`` does."""
import docx

from ingest.formats.docx import parse
from ingest.types import source_lines
from support import make_docx


def test_each_paragraph_is_mapped_to_its_number(tmp_path):
    path = make_docx(tmp_path / "handbook.docx")
    document = parse(path.read_bytes())
    paragraphs = docx.Document(str(path)).paragraphs
    for needle in ("Weekend volunteers receive a lunch voucher", "Report every injury", "Safety"):
        start = document.text.index(needle)
        first, last = source_lines(document.source_map, start, start + len(needle))
        assert first == last and needle in paragraphs[first - 1].text
