"""Wikitext inline templates: quantities keep both ends of a range and their unit; templates that
carry text render it, the rest go."""
import re

import pytest

from ingest.formats.wikitext import WikitextRenderer
from ingest.loader import DocumentLoader
from support import bench_path, source_lines_of

render = WikitextRenderer()


@pytest.mark.parametrize("template, expected", [
    ("{{convert|7|–|10|kg}}", "7–10 kg"),
    ("{{convert|7|-|10|kg|lb}}", "7–10 kg"),
    ("{{cvt|7|–|10|kg}}", "7–10 kg"),
    ("{{convert|40|to|50|cm|in}}", "40 to 50 cm"),
    ("{{convert|3|and|4|mi|km}}", "3 and 4 mi"),
    ("{{convert|1300|mi|km}}", "1300 mi"),
    ("{{convert|25|C|F}}", "25 °C"),
    ("{{convert|2381741|km2|sqmi}}", "2381741 km²"),
    ("{{convert|2|by|3|m}}", "2 by 3 m"),
])
def test_convert_keeps_both_ends_of_a_range_and_the_unit(template, expected):
    assert render(f"An adult weighs {template}, sometimes more.").text == f"An adult weighs {expected}, sometimes more."


@pytest.mark.parametrize("template, expected", [
    ("{{birth date|1809|2|12}}", "12 February 1809"),
    ("{{dts|1777|12|16}}", "16 December 1777"),
    ("{{nowrap|322 BC}}", "322 BC"),
    ("{{lang|grc|ἀναρχία}}", "ἀναρχία"),
    ("{{transl|ar|al-Jazā'ir}}", "al-Jazā'ir"),
    ("{{frac|1|2}}", "1/2"),
    ("{{frac|3|1|2}}", "3 1/2"),
    ("{{frac|3}}", "1/3"),
    ("{{nts|1234}}", "1234"),
    ("{{abbr|UN|United Nations}}", "UN"),
    ("{{hlist|Biology|Zoology}}", "Biology, Zoology"),
    ("{{val|1.00794|u=kg}}", "1.00794 kg"),
    ("{{sort|Smith|John Smith}}", "John Smith"),
    ("{{rp|xxi}}", ""),
    ("{{flagicon|MAR}}", ""),
])
def test_inline_templates_that_carry_text_render_it_and_the_rest_go(template, expected):
    assert render(f"Value: {template}.").text == (f"Value: {expected}." if expected else "Value:.")


def _leftovers(text):
    return (len(re.findall(r"[–-] ?\.", text)) + len(re.findall(r"approximately [\d.,]+ ?[–-](?! ?\d)", text))
            + len(re.findall(r"\d ?[–-] ?[.,;:)]", text)))


@pytest.mark.slow
def test_the_dump_sample_has_no_range_cut_in_half():
    dump = bench_path("wikitext", "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
    documents = list(DocumentLoader()([dump]))
    aardwolf = next(document for document in documents if document.title == "Aardwolf")
    assert "weighs approximately 7–10 kg" in " ".join(aardwolf.text.split())
    assert "territory of 1 -." not in aardwolf.text and "about 40 to tall" not in aardwolf.text
    # 19 before; the 7 left are the sample's own text: "the prefix non-.", "approximately 3,000-man",
    # "8-, 16- and 32-bit" twice, "–CH3", and two open-ended year ranges "(1945–)", "1920–)".
    assert sum(_leftovers(document.text) for document in documents) <= 7


def test_infobox_facts_prose_and_headings_map_to_their_lines_in_the_page():
    page = ("{{Infobox company\n| name = Kestrel Ltd\n| foundation = {{start date|2014|10}}\n}}\n"
            "'''Kestrel''' makes [[bird]] rings.<ref>{{cite web|url=https://example.org}}</ref>\n\n"
            "== History ==\nIt was founded in\n[[Leeds]] by two ringers.\n")
    document = WikitextRenderer()(page)
    assert source_lines_of(document, "Founded: October 2014.") == (3, 3) and source_lines_of(document, "Name: Kestrel Ltd.") == (2, 2)
    assert source_lines_of(document, "Kestrel makes bird rings.") == (5, 5) and source_lines_of(document, "History") == (7, 7)
    assert source_lines_of(document, "founded in\nLeeds by two") == (8, 9)


@pytest.mark.slow   # parses the whole wikitext bench
def test_a_dump_page_counts_lines_within_its_own_wikitext(load_bench):
    documents, _ = load_bench("wikitext")
    document = next(d for d in documents if d.page == "Affirming the consequent")
    assert source_lines_of(document, "Affirming the consequent, sometimes called converse error") == (2, 2)
