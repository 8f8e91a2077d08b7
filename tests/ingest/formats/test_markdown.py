"""Markdown to prose: a real parser (markdown-it-py), so link text, parenthesised URLs and emphasis
come out clean, and crafted brackets cost linear time."""
import time

from ingest.formats import format_of_text
from ingest.formats.markdown import parse
from support import source_lines_of


def _section_at(document, offset):
    return next(span.label for span in document.sections if span.start <= offset < span.end)


def test_link_text_is_kept_and_a_url_with_parentheses_stays_whole():
    document = parse("# Notes\n\nSee [the article](https://en.wikipedia.org/wiki/Kestrel_(bird)) for more.\n")
    assert "See the article for more." in document.text
    assert "bird)" not in document.text and "](" not in document.text


def test_emphasis_markers_go_in_all_three_spellings():
    document = parse("# Notes\n\nThe _first_ plot, the *second* plot and the **third** plot.\n")
    assert "The first plot, the second plot and the third plot." in document.text


def test_list_and_heading_markers_do_not_reach_the_text():
    document = parse("# Plan\n\n- Potatoes in March.\n* Beans in June.\n1. Garlic in October.\n\n## Soil ##\n\nAcid.\n")
    lines = document.text.splitlines()
    assert "Potatoes in March." in lines and "Beans in June." in lines and "Garlic in October." in lines
    assert "Soil" in lines and not any(line.lstrip().startswith(("-", "*", "#", "1.")) for line in lines)
    assert _section_at(document, document.text.index("Acid")) == "Plan > Soil"


def test_images_go_and_inline_html_leaves_its_text():
    document = parse("# Soil\n\n![soil photo](soil.jpg)\nThe pH was <b>6.4</b>.<br>Slightly acid.\n")
    assert "soil.jpg" not in document.text and "soil photo" not in document.text
    assert "The pH was 6.4." in document.text and "Slightly acid." in document.text


def test_crafted_unclosed_brackets_parse_in_linear_time():
    # issue 21 item 1: the old link and image regexes took more than 300 s on this 400 KB page.
    crafted = "# T\n\n" + "[" * 200000 + "x" + "](" * 100000
    started = time.process_time()
    document = format_of_text(crafted).parse(crafted)
    assert time.process_time() - started < 10
    assert document.title == "T"


def test_crafted_unclosed_liquid_and_html_openers_parse_in_linear_time():
    crafted = "# T\n\n" + "{{ {% <a " * 50000
    started = time.process_time()
    document = parse(crafted)
    assert time.process_time() - started < 10
    assert document.title == "T"


def test_stray_markers_an_unspaced_heading_and_an_escaped_rule_go():
    document = parse("# Post\n\nIntro.\n\n\\* \\* \\*\n\n###Evaluating options\n\nWe compared three.\n")
    assert "*" not in document.text and "#" not in document.text
    assert _section_at(document, document.text.index("We compared")) == "Post > Evaluating options"


def test_each_block_is_mapped_to_its_lines_in_the_file():
    source = ("# Plan\n\nThe soil is **acid**,\nwith a <b>pH</b> of 6.4.<br>\nLime in March.\n\n"
              "```\nraised beds\n```\n\n{% include note.html\n  kind=tip %}\n- Beans in June.\n\n"
              "| Crop | Month |\n|---|---|\n| Garlic | October |\n")
    document = parse(source)
    assert source_lines_of(document, "Plan") == (1, 1) and source_lines_of(document, "The soil is acid,\nwith a pH") == (3, 4)
    assert source_lines_of(document, "Lime in March.") == (5, 5), "a <br> is no line of the file"
    assert source_lines_of(document, "raised beds") == (8, 8) and source_lines_of(document, "Beans in June.") == (13, 13)
    assert source_lines_of(document, "Garlic, Month: October.") == (15, 17), "a table's statements stand for the table"
