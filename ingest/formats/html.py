"""Web pages (selectolax's lexbor parser): the main content without navigation boilerplate;
``<title>`` is the title, h1–h6 are section paths and the canonical URL is the citation URL."""
from __future__ import annotations

import re

from ingest.formats.base import Format, NotParsed, ParsedDocument
from ingest.textbuilder import TextBuilder
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
    _write(root, out)
    return out.build(title=title[:200], url=url, published=published)


def _write(node, out: TextBuilder) -> None:
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            out.write(child.text(deep=False))
        elif tag in _HEADINGS:
            heading = _text_of(child)
            if heading:
                out.heading(_HEADINGS[tag], heading)
        elif tag == "br":
            out.write("\n")
        elif tag in _BLOCKS:
            out.paragraph_break()
            _write(child, out)
            out.paragraph_break()
        elif tag in _CELLS:
            _write(child, out)
            out.write(" ")
        elif tag not in ("img", "-comment"):
            _write(child, out)


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
