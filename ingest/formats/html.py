"""Web pages (selectolax's lexbor parser): the main content without navigation boilerplate;
``<title>`` is the title, h1–h6 are section paths and the canonical URL is the citation URL."""
from __future__ import annotations

import re

from ingest.formats.base import Format, NotParsed, ParsedDocument
from ingest.tables import TableRow, table_statements
from ingest.textbuilder import RENDERED_BREAK, TextBuilder
from ingest.urls import safe_url

# Page furniture rather than content, by element and by ARIA role.
_BOILERPLATE = ("script, style, noscript, template, svg, iframe, form, button, nav, header, footer, aside, "
                "[role=navigation], [role=banner], [role=contentinfo], [role=complementary], [aria-hidden=true]")
# ... and by the class or id that site templates give it.
_BOILERPLATE_NAMES = re.compile(r"(^|[-_ ])(nav|navbar|menu|breadcrumbs?|sidebar|footer|cookie|banner|share|social|"
                                r"skip-link|site-header|masthead|pagination|related)([-_ ]|$)", re.I)
_BLOCKS = {"p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "table", "tr", "blockquote",
           "pre", "figure", "figcaption", "address", "details", "summary", "hr", "body"}
_CELLS = {"td", "th"}
_NEVER_REMOVED = {"html", "head", "body", "main", "article"}
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
# Deeper nesting than real pages have (they stay under a hundred or so): the tags below this depth
# are dropped before parsing, their text kept, because lexbor's tree building is quadratic in
# depth (100,000 nested <div> took more than 80 s).
MAX_NESTING = 512
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*?(/?)>")
# Elements that never hold others, or whose end tag is optional (<p>, <li>, <td> ...): they do not
# open a level that a later end tag must close, so they are not counted.
_NOT_NESTING = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option",
                "optgroup", "colgroup", "caption", "rp", "rt", "html", "head", "body"}
_HTML_START = re.compile(r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S)


def looks_like_html(text: str) -> bool:
    head = text[:4096]
    return bool(_HTML_START.match(head)) or ("<body" in head.lower() and "</" in head)


def parse(page: str) -> ParsedDocument:
    """The main content (``<main>``, else a single ``<article>``, else ``<body>``) as text.

    >>> doc = parse('<html><head><title>Field notes</title><link rel="canonical" href="https://example.org/notes">'
    ...             '</head><body><nav>Home | About</nav><main><h1>Day one</h1><p>It <b>rained</b>.</p>'
    ...             '<h2>Evening</h2><p>Clear skies.</p></main><footer>© 2024</footer></body></html>')
    >>> doc.title, doc.url, doc.text
    ('Field notes', 'https://example.org/notes', 'Day one\\n\\nIt rained.\\n\\nEvening\\n\\nClear skies.')
    >>> [section.label for section in doc.sections]
    ['Day one', 'Day one > Evening']
    """
    from selectolax.lexbor import LexborHTMLParser   # here, not at the top: every qa command imports the registry

    lines = _PageLines(page)
    page, flattened = _flatten_deep_nesting(page)
    tree = LexborHTMLParser(page)
    title = _text_of(tree.css_first("title")) or _text_of(tree.css_first("h1"))
    url = _canonical_url(tree)
    published = _published(tree)
    for node in tree.css(_BOILERPLATE):
        node.decompose()
    for node in tree.css("[class], [id]"):
        # The page's frame and its content element keep whatever their classes say ("sidebar-visible").
        if node.tag in _NEVER_REMOVED or node.parent is None:
            continue
        if _BOILERPLATE_NAMES.search(f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"):
            node.decompose()
    articles = tree.css("article")
    root = tree.css_first("main") or tree.css_first("[role=main]") or (articles[0] if len(articles) == 1 else tree.body)
    if root is None:
        raise NotParsed("skipped: a web page with no body")
    out = TextBuilder()
    _write(root, out, lines)
    warning = f"{flattened} tags nested deeper than {MAX_NESTING} levels were dropped, their text kept" if flattened else ""
    return out.build(title=title[:200], url=url, published=published, warning=warning)


def _flatten_deep_nesting(page: str) -> tuple[str, int]:
    """The page with the tags nested deeper than ``MAX_NESTING`` removed, and how many were.

    One linear scan that counts open elements; a page within the cap is returned as it is.

    >>> _flatten_deep_nesting("<div>" * 600 + "deep" + "</div>" * 600)[1]
    176
    """
    depth = deepest = 0
    for tag in _TAG.finditer(page):
        if tag.group(2).lower() in _NOT_NESTING or tag.group(3):
            continue
        depth = max(0, depth - 1) if tag.group(1) else depth + 1
        deepest = max(deepest, depth)
    if deepest <= MAX_NESTING:
        return page, 0
    pieces, position, depth, dropped = [], 0, 0, 0
    for tag in _TAG.finditer(page):
        if tag.group(2).lower() in _NOT_NESTING or tag.group(3):
            continue
        closing = bool(tag.group(1))
        too_deep = depth > MAX_NESTING if closing else depth >= MAX_NESTING
        depth = max(0, depth - 1) if closing else depth + 1
        if too_deep:
            pieces.append(page[position:tag.start()])
            position = tag.end()
            dropped += 1
    pieces.append(page[position:])
    return "".join(pieces), dropped


_PARAGRAPH_END = object()
_CELL_END = object()


# A text's first run of characters that a page writes as they are, never as entities (``&amp;``,
# ``&eacute;``): what is looked for in the page's source to find the text's line.
_LITERAL_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ,.;:!?()/%+=_-]{3,39}|[A-Za-z0-9]+")
_SEARCH_WINDOW = 1 << 20
_BODY_START = re.compile(r"</head\s*>|<body\b", re.I)


class _PageLines:
    r"""The line of the page's source (1-based) each text the walk writes starts on, found by
    looking for the text forward from the last one found: lexbor keeps no source positions, and
    the walk meets texts in page order. Bounded: a text not found within ``_SEARCH_WINDOW``
    characters keeps the last line, and the searching stops after a few passes' worth of the page.

    >>> lines = _PageLines("<p>One</p>\n<p>Two &amp;\nthree</p>")
    >>> lines.line_of("One"), lines.line_of("Two &\nthree"), lines.line_of("\nthree")
    (1, 2, 2)
    """

    def __init__(self, page: str):
        self.page = page
        # The walk starts at the body: a <title> that repeats the first heading must not match.
        body = _BODY_START.search(page, 0, _SEARCH_WINDOW)
        self.position = body.start() if body else 0
        self.line = 1 + page.count("\n", 0, self.position)
        self.budget = 4 * len(page) + _SEARCH_WINDOW

    def line_of(self, text: str) -> int:
        run = _LITERAL_RUN.search(text)
        if run is None or self.budget <= 0:
            return self.line
        window_end = min(len(self.page), self.position + _SEARCH_WINDOW)
        found = self.page.find(run.group(), self.position, window_end)
        self.budget -= (window_end if found < 0 else found + len(run.group())) - self.position
        if found < 0:
            return self.line
        self.line += self.page.count("\n", self.position, found)
        self.position = found
        # The text's own line breaks before the run (a text node's leading newline) come first.
        return max(1, self.line - text.count("\n", 0, run.start()))


def _write(root, out: TextBuilder, lines: _PageLines) -> None:
    """Walks the tree with a stack of its own, not recursion: crafted nesting cannot overflow it.
    Each text is marked with its line in the page's source."""
    pending = list(root.iter(include_text=True))[::-1]
    while pending:
        node = pending.pop()
        if node is _PARAGRAPH_END:
            out.paragraph_break()
            continue
        if node is _CELL_END:
            out.write(" ")
            continue
        tag = node.tag
        if tag == "-text":
            text = node.text(deep=False)
            if text.strip():
                out.at_source(lines.line_of(text))   # the page's own text: its line breaks are the page's
            out.write(text)
        elif tag in _HEADINGS:
            heading = _text_of(node)
            if heading:
                out.at_source(lines.line_of(heading))
                out.heading(_HEADINGS[tag], heading)
        elif tag == "br":
            out.write(RENDERED_BREAK)
        elif tag == "table":
            out.paragraph_break()
            rows = _table_rows(node)
            cells = [cell for row in rows for cell in row.cells if cell.strip()]
            if cells:
                first = lines.line_of(cells[0])
                out.at_source(first, lines.line_of(cells[-1]))
            for statement in table_statements(rows):
                out.write(statement + "\n")
            out.paragraph_break()
        elif tag not in ("img", "-comment"):
            if tag in _BLOCKS:
                out.paragraph_break()
                pending.append(_PARAGRAPH_END)
            elif tag in _CELLS:
                pending.append(_CELL_END)
            pending.extend(list(node.iter(include_text=True))[::-1])


def _table_rows(table) -> list[TableRow]:
    """The rows of ``table`` itself (not of a table nested in one of its cells); a row of ``<th>``
    only, or one in ``<thead>``, is a header."""
    rows = []
    for row in table.css("tr"):
        ancestor = row.parent
        while ancestor is not None and ancestor.tag != "table":
            ancestor = ancestor.parent
        if ancestor is None or ancestor.mem_id != table.mem_id:
            continue
        cells = [cell for cell in row.iter() if cell.tag in _CELLS]
        in_head = row.parent is not None and row.parent.tag == "thead"
        rows.append(TableRow(tuple(_text_of(cell) for cell in cells),
                             header=bool(cells) and (in_head or all(cell.tag == "th" for cell in cells))))
    return rows


def _text_of(node) -> str:
    return " ".join(node.text(deep=True).split()) if node is not None else ""


def _canonical_url(tree) -> str:
    for selector, attribute in (("link[rel=canonical]", "href"), ("meta[property='og:url']", "content")):
        node = tree.css_first(selector)
        url = safe_url((node.attributes.get(attribute) or "").strip()) if node is not None else ""
        if url.startswith("http"):
            return url
    return ""


def _published(tree) -> str:
    for selector, attribute in (("meta[property='article:published_time']", "content"), ("meta[name=date]", "content"),
                                ("time[datetime]", "datetime")):
        node = tree.css_first(selector)
        value = (node.attributes.get(attribute) or "").strip() if node is not None else ""
        if re.match(r"\d{4}-\d{2}-\d{2}", value):
            return value
    return ""


FORMAT = Format("html", looks_like_html, parse)
