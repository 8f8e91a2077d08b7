"""Checkable citations: for every format, a real file is indexed, a real question asked with the
real model, and the cited lines (a PDF's page, a Word file's paragraph) are read from the file on
disk, where the cited words must be."""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from eval import BENCH
from index.builder import IndexBuilder
from index.store import IndexStore
from ingest.mediawiki_dump import iter_dump_pages
from qa.api import QA
from qa.cli import main as cli
from support import FORMAT_FIXTURES, bench_path, make_docx, make_pdf

SEEDS = BENCH.parent / "seeds"   # ../shared/seeds, the bundled corpus
DUMP_PAGE = "Affirming the consequent"
_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def _dump_with_one_page(source: Path, title: str, target: Path) -> Path:
    """A MediaWiki dump holding one real page of ``source`` (the whole dump takes minutes to embed)."""
    page = next(p for p in iter_dump_pages(source, 10 ** 8) if p.title == title)
    root = ET.Element("mediawiki", {"xmlns": "http://www.mediawiki.org/xml/export-0.10/"})
    element = ET.SubElement(root, "page")
    ET.SubElement(element, "title").text = page.title
    ET.SubElement(element, "ns").text = "0"
    ET.SubElement(ET.SubElement(element, "revision"), "text").text = page.text
    ET.ElementTree(root).write(target, encoding="utf-8", xml_declaration=True)
    return target


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, embedder) -> tuple[Path, Path]:
    """One folder of real files of every format, and its index."""
    folder = tmp_path_factory.mktemp("citations") / "docs"
    folder.mkdir()
    shutil.copy(SEEDS / "003_43698ed40160f2b4.txt", folder / "funding.txt")
    shutil.copy(SEEDS / "002_73259c55204946b0.txt", folder / "sensetime.wiki")
    shutil.copy(bench_path("news_frontmatter", "18f_posts", "2014-03-21-29-minutes.md"), folder / "29-minutes.md")
    shutil.copy(FORMAT_FIXTURES / "allotment-notes.md", folder / "allotment-notes.md")
    shutil.copy(FORMAT_FIXTURES / "harbour-ferry.html", folder / "harbour-ferry.html")
    make_docx(folder / "volunteer-handbook.docx")
    make_pdf(folder / "kestrel-survey.pdf")
    _dump_with_one_page(bench_path("wikitext", "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"),
                        DUMP_PAGE, folder / "logic-dump.xml")
    index_dir = folder.parent / "index"
    IndexBuilder(index_dir, progress=False, embedder=embedder)([folder])
    return folder, index_dir


@pytest.fixture(scope="module")
def qa(corpus, embedder):
    with QA(IndexStore.open(corpus[1]), embedder) as opened:
        yield opened


def _source_lines(citation) -> str:
    """Lines ``line_start``..``line_end`` of the cited file as it is on disk (of the page's wikitext
    for a dump), read here without docqa's readers."""
    if citation.article:
        pages = ET.parse(citation.path).getroot().iter()
        text = next(page.findtext("{*}revision/{*}text") for page in pages
                    if page.tag.endswith("page") and page.findtext("{*}title") == citation.article)
    else:
        text = Path(citation.path).read_text(encoding="utf-8")
    return "\n".join(text.split("\n")[citation.line_start - 1:citation.line_end])


def _pdf_page_text(path: str, number: int) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(path)
    try:
        return pdf[number - 1].get_textpage().get_text_range()
    finally:
        pdf.close()


def _docx_paragraph(path: str, number: int) -> str:
    import docx

    return docx.Document(path).paragraphs[number - 1].text


def _share_found(cited: str, source: str) -> float:
    """The share of the cited text's words that the source text holds (markup drops none, but a
    reader's own words, such as an infobox's field labels, are not in the file)."""
    words = _words(cited)
    found = " ".join(_words(source))
    return sum(word in found for word in words) / max(1, len(words))


@pytest.mark.parametrize("name, question, answer_words", [
    ("funding.txt", "Who is Alibaba's vice chairman?", "Joe Tsai"),
    ("sensetime.wiki", "When was SenseTime founded?", "October 2014"),
    ("29-minutes.md", "How long did it take to go from idea to a working code integration?", "29 minutes"),
    ("allotment-notes.md", "What was the pH of the soil?", "6.4"),
    ("harbour-ferry.html", "When does the MV Tern enter service?", "28 March"),
    ("logic-dump.xml", "What is affirming the consequent sometimes called?", "converse error"),
])
def test_the_cited_lines_of_the_file_on_disk_hold_the_cited_words(qa, corpus, name, question, answer_words):
    answer = qa.ask(question)
    cited, short = answer.answer_citation, answer.short_citation
    assert Path(cited.path) == corpus[0] / name and cited.page is None and cited.paragraph is None
    assert 1 <= cited.line_start <= short.line_start <= short.line_end <= cited.line_end
    assert cited.text == answer.answer and short.text == answer.short
    # The short answer's words are all on its lines; the sentence's words on the sentence's lines.
    assert set(_words(answer_words)) <= set(_words(_source_lines(short)))
    assert _share_found(cited.text, _source_lines(cited)) >= 0.6   # "Founded: October 2014." has one label word
    for hit in answer.hits:
        assert hit.citation.text == hit.passage.text and hit.citation.line_start <= hit.citation.line_end
        assert _share_found(hit.citation.text, _source_lines(hit.citation)) >= 0.75, hit.citation


def test_a_dump_page_is_cited_by_its_title_and_its_lines_count_within_its_wikitext(qa, corpus):
    cited = qa.ask("What is affirming the consequent sometimes called?").answer_citation
    assert cited.article == DUMP_PAGE and cited.source == f"logic-dump.xml#{DUMP_PAGE}"
    assert cited.line_start == 2 and cited.location().endswith(f'logic-dump.xml, page "{DUMP_PAGE}", line 2')


def test_front_matter_lines_count_from_the_files_first_line_block_included(qa, corpus):
    post = corpus[0] / "29-minutes.md"
    lines = post.read_text(encoding="utf-8").split("\n")
    answer = qa.ask("How long did it take to go from idea to a working code integration?")
    cited, short = answer.answer_citation, answer.short_citation
    assert (cited.line_start, cited.line_end, short.line_start) == (33, 36, 34) and lines[18] == "---"
    assert lines[32].endswith("A couple stars aligned to") and "took 29 minutes" in lines[33]
    titled = next(hit.citation for hit in qa.ask("29 minutes", k=20).hits
                  if Path(hit.citation.path) == post and hit.citation.text.startswith("29 minutes"))
    assert lines[titled.line_start - 1] == 'title: "29 minutes"'


def test_a_pdf_citation_names_the_page_that_holds_the_cited_text(qa, corpus):
    answer = qa.ask("How many nesting pairs did the Kestrel survey count?")
    cited = answer.answer_citation
    assert Path(cited.path) == corpus[0] / "kestrel-survey.pdf" and (cited.page, cited.line_start) == (3, None)
    page = " ".join(_pdf_page_text(cited.path, cited.page).split())
    assert cited.text in page and answer.short_citation.text == "412"


def test_a_word_citation_names_the_paragraph_that_holds_the_cited_text(qa, corpus):
    answer = qa.ask("Who should injuries be reported to?")
    cited = answer.answer_citation
    assert Path(cited.path) == corpus[0] / "volunteer-handbook.docx" and cited.line_start is None
    assert cited.paragraph == 7 and cited.text == _docx_paragraph(cited.path, cited.paragraph)
    assert cited.location().endswith("volunteer-handbook.docx, paragraph 7")


def test_the_plain_cli_prints_path_colon_line_where_the_cited_text_starts(corpus, capsys):
    folder, index_dir = corpus
    assert cli(["ask", "When does the MV Tern enter service?", "--index", str(index_dir), "-k", "3"]) == 0
    out = capsys.readouterr().out
    locations = re.findall(r"^ +(/\S+):(\d+) \(", out, re.M)
    assert len(locations) == 4 and (str(folder / "harbour-ferry.html"), "24") == locations[0]
    lines = (folder / "harbour-ferry.html").read_text(encoding="utf-8").split("\n")
    assert "The council added a second" in lines[23] and "28 March" in lines[24]
    for path, line in locations:
        assert Path(path).is_file() and 1 <= int(line) <= len(Path(path).read_text(encoding="utf-8").split("\n"))
