"""Markdown or text with YAML front matter (python-frontmatter)."""
from __future__ import annotations

import datetime as dt
import re

import frontmatter
import yaml

from ingest.formats import markdown, text as plain_text
from ingest.formats.base import Format, ParsedDocument
from ingest.textbuilder import TextBuilder
from ingest.types import Field
from ingest.urls import safe_url

_URL_KEYS = ("originalUrl", "original_url", "canonical_url", "url", "webUrl", "link", "permalink", "tumblr_url")
_DATE_KEYS = ("publishedDateTime", "published_at", "date", "pubDate", "published")
_SUMMARY_KEYS = ("excerpt", "description", "summary", "abstract")
# Front matter kept as fields for ``--where``: bounded, so a hostile header cannot bloat the index.
MAX_FIELDS = 64
MAX_FIELD_CHARS = 200

class FrontMatterError(Exception):
    """The YAML block at the top of the file does not parse."""


def has_front_matter(text: str) -> bool:
    return text.startswith("---") and text[3:4] in ("\n", "\r")


def parse_front_matter(text: str) -> ParsedDocument:
    """Title, summary and body become the text; title, URL and date become citation metadata.

    >>> doc = parse_front_matter('---\\ntitle: "Hi"\\nexcerpt: Short.\\n---\\n')
    >>> doc.title, doc.text
    ('Hi', 'Hi\\n\\nShort.')
    """
    try:
        post = frontmatter.loads(text)
        meta, body = post.metadata, post.content
    except (yaml.YAMLError, ValueError, TypeError) as error:
        # An impossible date (2023-02-30) fails YAML's timestamp type and with it the whole block;
        # read the dates as text instead, so only the bad field is lost, not the title and URL.
        try:
            raw_meta, body = frontmatter.YAMLHandler().split(text)
            meta = yaml.load(raw_meta, Loader=_DatesAsText)
        except (yaml.YAMLError, ValueError, TypeError):
            raise FrontMatterError(" ".join(str(error).split())[:160]) from error
    if not isinstance(meta, dict):
        raise FrontMatterError("front matter is not a mapping of keys to values")
    title = _as_text(meta.get("title"))
    summary_key = next((k for k in _SUMMARY_KEYS if _as_text(meta.get(k))), "")
    summary = _as_text(meta.get(summary_key)) if summary_key else ""

    # Lines count from the file's first line, the front-matter block included.
    block_end = _front_matter_end(text)
    out = TextBuilder()
    if title:
        out.at_source(*_key_lines(text, block_end, "title"))
        out.write(title)
        out.paragraph_break()
    if summary and summary[:80] not in body:
        out.at_source(*_key_lines(text, block_end, summary_key))
        out.write(summary)
        out.paragraph_break()
    body_start = text.find(body, block_end) if body else -1
    markdown.write_markdown(out, body, start_line=text.count("\n", 0, body_start if body_start >= 0 else block_end) + 1)
    url = next((url for url in (safe_url(_as_text(meta.get(k))) for k in _URL_KEYS) if url.startswith("http")), "")
    published = next((_as_date(meta[k]) for k in _DATE_KEYS if _as_date(meta.get(k))), "")
    return out.build(title=title, url=url, published=published, fields=front_matter_fields(meta))


def front_matter_fields(meta: dict) -> tuple[Field, ...]:
    """The plain values of the front matter, a list's items one field each; nested mappings are left out.

    >>> front_matter_fields({"title": "Hi", "tags": ["python", "ml"], "draft": False, "author": {"n": 1}})
    (Field(name='title', value='Hi'), Field(name='tags', value='python'), Field(name='tags', value='ml'), Field(name='draft', value='false'))
    """
    fields = []
    for name, value in meta.items():
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            text = _field_text(item)
            if text and isinstance(name, str) and len(fields) < MAX_FIELDS:
                fields.append(Field(name[:MAX_FIELD_CHARS], text[:MAX_FIELD_CHARS]))
    return tuple(fields)


def _field_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, dt.date, dt.datetime)):
        return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)
    return _as_text(value)


def parse(text: str) -> ParsedDocument:
    """Front matter and body; where the YAML does not parse, the body as plain text, with a warning."""
    try:
        return parse_front_matter(text)
    except FrontMatterError as error:
        block_end = _front_matter_end(text)
        fallback = plain_text.parse(text[block_end:], start_line=text.count("\n", 0, block_end) + 1)
        return ParsedDocument(fallback.text, fallback.title, format="text", source_map=fallback.source_map,
                              warning=f"front matter does not parse ({error}); indexed as plain text")


def _front_matter_end(text: str) -> int:
    """Where the front-matter block ends (after its closing ``---`` line), or 0 where it has none."""
    closing = re.search(r"^(---|\.\.\.)[ \t]*$", text[3:], re.M)
    return 3 + closing.end() if closing else 0


def _key_lines(text: str, block_end: int, key: str) -> tuple[int, int]:
    """The lines of the front matter's ``key:`` entry: its own, and those its value runs on to
    (indented or folded), up to the next entry."""
    block = text[:block_end]
    entry = re.search(rf"^{re.escape(key)}[ \t]*:", block, re.M)
    if entry is None:
        return 1, 1
    first = block.count("\n", 0, entry.start()) + 1
    following = re.compile(r"^(\S)", re.M).search(block, block.find("\n", entry.end()) + 1 or len(block))
    last = block.count("\n", 0, following.start()) if following else first
    return first, max(first, last)


FORMAT = Format("frontmatter", has_front_matter, parse)


def _as_text(value) -> str:
    if isinstance(value, str):
        return " ".join(value.split())
    return ""


def _as_date(value) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value):
        try:
            dt.date.fromisoformat(value[:10])
        except ValueError:
            return ""
        return value
    return ""


class _DatesAsText(yaml.SafeLoader):
    """YAML's safe loader, with timestamps left as strings."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
