import logging
from pathlib import Path

import pytest

from ingest import BUNDLED_CORPUS, DocumentLoader, detect_format
from ingest.loader import document_id

WIKI = BUNDLED_CORPUS / "002_73259c55204946b0.txt"


def load_one(path: Path):
    docs = list(DocumentLoader()([path]))
    assert len(docs) == 1
    return docs[0]


def test_formats_are_detected_by_content_not_extension():
    formats = {d.source: d.format for d in DocumentLoader()([BUNDLED_CORPUS])}
    assert formats == {
        "000_a9af21b14b31e59d.txt": "frontmatter",
        "001_9d4cac1fec7e3850.txt": "frontmatter",
        "002_73259c55204946b0.txt": "wikitext",
        "003_43698ed40160f2b4.txt": "text",
        "004_46bcc2b04fd1ba2f.txt": "text",
    }
    assert detect_format("Just a line.\nAnother [[one]].") == "text"


def test_wikitext_keeps_section_paths_and_link_text():
    doc = load_one(WIKI)
    assert doc.title == "SenseTime"
    labels = [s.label for s in doc.sections]
    assert "History > 2018" in labels and "Controversies" in labels
    assert not any("References" in label or "External links" in label for label in labels)
    history_2014 = next(s for s in doc.sections if s.label == "History > 2014")
    assert doc.text[history_2014.start:history_2014.end].strip().startswith("SenseTime was co-founded in October 2014 by Tang Xiao'ou")
    assert "[[" not in doc.text and "{{" not in doc.text and "<ref" not in doc.text
    # piped link keeps its visible text, not its target
    assert "computer scientist Xu Li, among others" in doc.text
    assert "Xu Li (computer scientist)" not in doc.text


def test_wikitext_refs_become_urls_of_the_sentence_they_support():
    doc = load_one(WIKI)
    fortune = [r for r in doc.refs if r.label == "http://fortune.com/40-under-40/xu-li-7/"]
    assert len(fortune) == 1
    sentence = doc.text[fortune[0].start:fortune[0].end]
    assert sentence.startswith("SenseTime was co-founded in October 2014") and sentence.endswith("among others.")
    assert not any("web.archive.org" in r.label for r in doc.refs), "archive copies are not the cited source"
    assert "url-status" not in doc.text and "access-date" not in doc.text


def test_wikitext_infobox_becomes_readable_facts_and_templates_render():
    doc = load_one(WIKI)
    facts = next(s for s in doc.sections if s.label == "Infobox")
    text = doc.text[facts.start:facts.end]
    assert "Founded: October 2014. Founders: Tang Xiao'ou, Xu Li. Headquarters: Science Park, Hong Kong" in text
    assert "Chinese name: 商汤科技" in text
    assert "SenseTime (商汤科技) is currently" in doc.text
    assert "image" not in text.lower() and "Dark_Background" not in doc.text


def test_wikitext_drops_categories_and_external_link_boilerplate():
    doc = load_one(WIKI)
    assert "Category" not in doc.text and "Hong Kong brands" not in doc.text
    assert "Official website" not in doc.text


def test_front_matter_news_uses_title_and_excerpt_and_keeps_citation_metadata():
    doc = load_one(BUNDLED_CORPUS / "001_9d4cac1fec7e3850.txt")
    assert doc.title == "Can SenseTime become a Chinese AI champion?"
    assert doc.text.startswith("Can SenseTime become a Chinese AI champion?\n\nKnown for its expertise in facial recognition")
    assert doc.url == "https://www.ft.com/content/c735e0f3-5704-47b5-a76f-7a02d53a1525"
    assert doc.published.startswith("2021-09-28")
    assert "secured" not in doc.text and "webUrl" not in doc.text


def test_plain_text_title_is_first_line():
    doc = load_one(BUNDLED_CORPUS / "003_43698ed40160f2b4.txt")
    assert doc.title == "Chinese Facial Recognition Startup Raises $600 Million in Largest AI Funding Round Ever"
    assert doc.format == "text"


def test_document_ids_are_stable_and_follow_content(tmp_path):
    first = load_one(WIKI)
    assert load_one(WIKI).doc_id == first.doc_id == document_id(str(WIKI.resolve()), first.content_hash)
    edited = tmp_path / WIKI.name
    edited.write_text(WIKI.read_text() + "\nOne more line.\n")
    assert load_one(edited).doc_id != first.doc_id


@pytest.mark.parametrize("name, content, expected", [
    ("empty.txt", b"", "empty"),
    ("latin1.txt", "Caf\u00e9 cr\u00e8me is a phrase.".encode("latin-1"), "not valid UTF-8"),
    ("broken.md", b"---\ntitle: [unclosed\nfoo: : :\n---\nBody text survives here.\n", "front matter does not parse"),
    ("binary.txt", bytes(range(256)) * 64, "binary file"),
])
def test_bad_input_gives_one_line_warning_naming_the_file_and_the_run_goes_on(tmp_path, caplog, name, content, expected):
    (tmp_path / name).write_bytes(content)
    good = tmp_path / "zz_good.txt"
    good.write_text("A good document\n\nIt has a sentence.")
    loader = DocumentLoader()
    with caplog.at_level(logging.WARNING, logger="docqa.ingest"):
        docs = list(loader([tmp_path]))
    assert "A good document" in [d.title for d in docs]
    assert len(loader.warnings) == 1
    line = str(loader.warnings[0])
    assert "\n" not in line and str(tmp_path / name) in line and expected in line
    assert caplog.messages == [line]


def test_undecodable_text_is_still_indexed_and_front_matter_failure_falls_back_to_text(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("Caf\u00e9 cr\u00e8me is a phrase.".encode("latin-1"))
    (tmp_path / "broken.md").write_bytes(b"---\ntitle: [unclosed\n---\nBody text survives here.\n")
    docs = {d.source: d for d in DocumentLoader()([tmp_path])}
    assert docs["latin1.txt"].text == "Café crème is a phrase."
    assert docs["broken.md"].format == "text" and docs["broken.md"].text == "Body text survives here."


def test_huge_file_is_skipped_with_a_warning(tmp_path):
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as handle:
        handle.write(b"word " * (50 * 1024 * 1024 // 5))
    assert huge.stat().st_size >= 50 * 1024 * 1024
    loader = DocumentLoader()
    assert list(loader([huge])) == []
    assert len(loader.warnings) == 1 and loader.warnings[0].path == str(huge) and "MB limit" in loader.warnings[0].reason


def test_missing_path_warns(tmp_path):
    loader = DocumentLoader()
    assert list(loader([tmp_path / "nope"])) == []
    assert "no such file" in loader.warnings[0].reason


def test_a_warning_says_by_its_kind_whether_the_file_was_skipped_or_read_with_a_caveat(tmp_path):
    from ingest.types import WarningKind

    (tmp_path / "empty.txt").write_bytes(b"")
    deep = "<html><body><p>Opening line.</p>" + "<div>" * 3000 + "<p>The deepest sentence survives.</p>" + \
        "</div>" * 3000 + "</body></html>"
    (tmp_path / "deep.html").write_text(deep)
    loader = DocumentLoader()
    documents = list(loader([tmp_path]))
    kinds = {Path(w.path).name: w.kind for w in loader.warnings}
    assert [d.source for d in documents] == ["deep.html"]
    assert kinds == {"deep.html": WarningKind.CAVEAT, "empty.txt": WarningKind.SKIPPED}
    assert [w.skipped for w in sorted(loader.warnings, key=lambda w: w.path)] == [False, True]
