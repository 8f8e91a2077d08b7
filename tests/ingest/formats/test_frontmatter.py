"""Front matter: the source map counts lines from the file's first line, the YAML block included."""
from ingest.formats.frontmatter import parse
from ingest.types import source_lines
from support import bench_path


def _lines_of(document, needle):
    start = document.text.index(needle)
    return source_lines(document.source_map, start, start + len(needle))


def test_title_summary_and_body_map_to_their_lines_in_the_file():
    post = bench_path("news_frontmatter", "18f_posts", "2014-03-21-29-minutes.md").read_text(encoding="utf-8")
    lines = post.split("\n")
    document = parse(post)
    title = _lines_of(document, "29 minutes")
    assert lines[title[0] - 1] == 'title: "29 minutes"'
    body = _lines_of(document, "At 11:29am, we had working code")
    assert body == (30, 30) and lines[29].startswith("At 11:29am")


def test_a_block_that_does_not_parse_keeps_the_bodys_lines():
    document = parse("---\ntitle: [unclosed\n---\n\nThe body starts here.\nSecond line.\n")
    assert document.format == "text" and _lines_of(document, "Second line.") == (6, 6)
