"""Markdown or text with YAML front matter (ingest/formats/frontmatter.py): title, summary, URL and
date; a broken block falls back to plain text with a warning."""
from ingest.formats.frontmatter import has_front_matter, parse


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
