"""Markdown without front matter, parsed by markdown-it-py (CommonMark and tables): ``#`` headings
become section paths; links keep their text, images and emphasis markers go, inline HTML leaves its
text. A real parser rather than patterns, because link patterns backtrack quadratically on crafted
brackets (a 400 KB page of ``[`` took more than 300 s) and cannot tell ``(bird)`` in a URL from prose.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ingest.formats.base import Format, ParsedDocument
from ingest.formats.text import first_line
from ingest.tables import TableRow, table_statements
from ingest.textbuilder import RENDERED_BREAK, TextBuilder

_HTML_BREAK = re.compile(r"<br\s*/?>", re.I)
# ``[^<>]*`` rather than ``[^>]*``: an opener with no ``>`` ends at the next ``<``, keeping it linear.
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_HEADING_LINE = re.compile(r"^#{1,6}\s+\S", re.M)
_FENCE = re.compile(r"^(```|~~~)", re.M)
# A link's middle, ``](``: counting it is linear, where a whole-link pattern is not.
_LINK_MIDDLE = re.compile(r"\]\(")
_LIQUID_CLOSERS = {"{%": "%}", "{{": "}}"}
_LIQUID_OPENER = re.compile(r"\{%|\{\{")
# ``###Plan``: a heading without its space, which CommonMark reads as prose.
_UNSPACED_HEADING = re.compile(r"(#{2,6})([^#\s][^\n]*)")
_BLOCK_ENDS = {"paragraph_close", "blockquote_close", "bullet_list_close", "ordered_list_close"}


def looks_like_markdown(text: str) -> bool:
    """ATX headings (``# Title``), or links and fences that plain text does not have."""
    head = text[:20000]
    return bool(_HEADING_LINE.search(head)) or len(_LINK_MIDDLE.findall(head)) + len(_FENCE.findall(head)) >= 2


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt   # here, not at the top: every qa command imports the registry

    # CommonMark caps nesting (blockquotes, lists) at 20 levels, so a crafted page cannot recurse deep.
    return MarkdownIt("commonmark").enable("table")


def write_markdown(out: TextBuilder, markdown: str, start_line: int = 1) -> None:
    """Write Markdown as plain text; ``#`` headings become section paths. Each block is marked
    with its line in the file (``start_line``: the file's line that ``markdown`` starts on).

    >>> out = TextBuilder()
    >>> write_markdown(out, "# Soil\\n\\nA **pH** of [6.4](https://example.org/ph_(soil)).\\n\\n- Acid\\n- Wet")
    >>> out.text
    'Soil\\n\\nA pH of 6.4.\\n\\nAcid\\nWet'
    """
    tokens = _parser().parse(_without_liquid(markdown))
    heading_level = 0
    heading_end_line = None
    table_rows: list[TableRow] = []
    row_cells: list[str] = []
    in_table = in_header = False
    for index, token in enumerate(tokens):
        kind = token.type
        if token.map and not in_table:
            # A fenced block's text starts on the line after its fence; a table's rows become
            # statements that stand for the table's lines as a whole.
            line = start_line + token.map[0] + (kind == "fence")
            out.at_source(line, start_line + token.map[1] - 1 if kind in ("table_open", "html_block") else None)
        if heading_end_line is not None and token.map and kind != "inline":
            if token.map[0] > heading_end_line:
                out.paragraph_break()   # a blank line after the heading, as the source has it
            heading_end_line = None
        if in_table:
            if kind == "inline":
                row_cells.append(_inline_text(token.children or []))
            elif kind == "thead_open" or kind == "thead_close":
                in_header = kind == "thead_open"
            elif kind == "tr_close":
                table_rows.append(TableRow(tuple(row_cells), header=in_header))
                row_cells = []
            elif kind == "table_close":
                in_table = False
                for statement in table_statements(table_rows):
                    out.write(statement + "\n")
                out.paragraph_break()
            continue
        if kind == "table_open":
            in_table, table_rows = True, []
            out.paragraph_break()
        elif kind == "heading_open":
            heading_end_line = token.map[1] if token.map else None
            heading_level = int(token.tag[1:])
        elif kind == "inline" and heading_level:
            title = " ".join(_inline_text(token.children or []).split())
            if title:
                out.heading(heading_level, title)
            heading_level = 0
        elif kind == "inline" and index and tokens[index - 1].type == "paragraph_open":
            _write_paragraph(out, _inline_text(token.children or []))
        elif kind == "inline":
            out.write(_inline_text(token.children or []))
        elif kind == "paragraph_close" and token.hidden:
            pass   # an item of a tight list: its line ends where the next item opens
        elif kind in _BLOCK_ENDS or kind == "list_item_open":
            out.paragraph_break() if kind in _BLOCK_ENDS else out.write("\n")
        elif kind in ("fence", "code_block"):
            out.paragraph_break()
            out.write(token.content)
            out.paragraph_break()
        elif kind == "html_block":
            out.write(_HTML_TAG.sub("", _HTML_BREAK.sub(RENDERED_BREAK, token.content)))
            out.paragraph_break()


def _write_paragraph(out: TextBuilder, text: str) -> None:
    unspaced_heading = _UNSPACED_HEADING.fullmatch(text.strip())
    if unspaced_heading:
        out.heading(len(unspaced_heading.group(1)), " ".join(unspaced_heading.group(2).split()))
    elif any(character.isalnum() for character in text):
        out.write(text)
    # else a line of markers only (an escaped rule, ``\* \* \*``): nothing to read


def _inline_text(children) -> str:
    pieces = []
    for child in children:
        kind = child.type
        if kind == "image":
            continue   # its alt text is a caption of a picture the reader cannot see
        if kind in ("text", "code_inline"):
            pieces.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            pieces.append("\n")
        elif kind == "html_inline":
            if _HTML_BREAK.fullmatch(child.content.strip()):
                pieces.append(RENDERED_BREAK)
    return "".join(pieces)


def _without_liquid(markdown: str) -> str:
    """Jekyll's ``{% … %}`` and ``{{ … }}`` removed, in one linear scan (a lazy ``{%.*?%}`` pattern
    rescans the rest of the page for each unclosed opener)."""
    if "{" not in markdown:
        return markdown
    pieces, position, unclosed = [], 0, set()
    for opener in _LIQUID_OPENER.finditer(markdown):
        start = opener.start()
        if start < position or opener.group() in unclosed:
            continue
        close = markdown.find(_LIQUID_CLOSERS[opener.group()], opener.end())
        if close < 0:
            unclosed.add(opener.group())   # no closer further on for any later opener of this kind either
            continue
        pieces.append(markdown[position:start])
        pieces.append("\n" * markdown.count("\n", start, close))   # its line breaks kept: lines stay where they are
        position = close + 2
    pieces.append(markdown[position:])
    return "".join(pieces)


def parse(text: str) -> ParsedDocument:
    """The title is the first heading (else the first line).

    >>> doc = parse("# Field notes\\n\\nSee [the map](https://example.org/map).\\n\\n## Day two\\nRain.")
    >>> doc.title, doc.text, [s.label for s in doc.sections]
    ('Field notes', 'Field notes\\n\\nSee the map.\\n\\nDay two\\nRain.', ['Field notes', 'Field notes > Day two'])
    """
    out = TextBuilder()
    write_markdown(out, text)
    title = next((section.label.split(" > ")[0] for section in out.build().sections if section.label), "")
    return out.build(title=(title or first_line(out.text))[:200])


FORMAT = Format("markdown", looks_like_markdown, parse)
