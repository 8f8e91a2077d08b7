"""Markdown or text with YAML front matter (ingest/formats/frontmatter.py): title, summary, URL and
date; a broken block falls back to plain text with a warning.

Front matter: the source map counts lines from the file's first line, the YAML block included."""
from ingest.formats.frontmatter import has_front_matter, parse
from support import bench_path, source_lines_of


def test_title_summary_url_and_date_become_text_and_citation_metadata():
    document = parse("---\ntitle: Launch  notes\nexcerpt: We launched.\ncanonical_url: https://example.org/launch\n"
                     "date: 2024-03-05\n---\n# Details\n\nThe launch was on a **Tuesday**.\n")
    assert (document.title, document.url, document.published) == ("Launch notes", "https://example.org/launch",
                                                                   "2024-03-05")
    assert document.text.startswith("Launch notes\n\nWe launched.") and "Tuesday" in document.text
    assert "**" not in document.text and document.warning == ""


def test_an_unsafe_url_and_an_impossible_date_are_dropped_but_the_rest_kept():
    document = parse("---\ntitle: Hi\nurl: javascript:alert(1)\ndate: 2023-02-30\n---\nBody text.\n")
    assert (document.title, document.url, document.published) == ("Hi", "", "")
    assert "Body text." in document.text


def test_a_summary_already_in_the_body_is_not_repeated():
    document = parse("---\ntitle: T\ndescription: The body says it.\n---\nThe body says it. And more.\n")
    assert document.text.count("The body says it.") == 1


def test_broken_yaml_is_indexed_as_plain_text_with_a_one_line_warning():
    document = parse("---\ntitle: [unclosed\n---\nThe body survives.\n")
    assert document.format == "text" and "The body survives." in document.text and "unclosed" not in document.text
    assert document.warning.startswith("front matter does not parse (") and "\n" not in document.warning
    assert has_front_matter("---\ntitle: x\n---\n") and not has_front_matter("--- not front matter")


def test_title_summary_and_body_map_to_their_lines_in_the_file():
    post = bench_path("news_frontmatter", "18f_posts", "2014-03-21-29-minutes.md").read_text(encoding="utf-8")
    lines = post.split("\n")
    document = parse(post)
    title = source_lines_of(document, "29 minutes")
    assert lines[title[0] - 1] == 'title: "29 minutes"'
    body = source_lines_of(document, "At 11:29am, we had working code")
    assert body == (30, 30) and lines[29].startswith("At 11:29am")


def test_a_block_that_does_not_parse_keeps_the_bodys_lines():
    document = parse("---\ntitle: [unclosed\n---\n\nThe body starts here.\nSecond line.\n")
    assert document.format == "text" and source_lines_of(document, "Second line.") == (6, 6)
