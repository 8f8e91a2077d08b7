"""MediaWiki wikitext → cleaned text with section paths, infobox facts and reference URLs."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

import mwparserfromhell
from mwparserfromhell.nodes import (
    Comment, ExternalLink, Heading, HTMLEntity, Tag, Template, Text, Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from ingest.formats.base import Format, ParsedDocument
from ingest.tables import TableRow, table_statements
from ingest.textbuilder import TextBuilder
from ingest.urls import safe_url

# Sections that hold boilerplate (citations, link lists), not prose worth answering from.
DROPPED_SECTIONS = {
    "references", "external links", "further reading", "notes", "sources", "bibliography",
    "see also", "footnotes", "citations", "notes and references", "general references",
}
_DROPPED_LINK_NAMESPACES = {"category", "file", "image", "media", "wikipedia", "wp", "template", "help", "portal", "special"}
_INTERWIKI = re.compile(r"^[a-z]{2,3}(-[a-z]+)?:")
_FACTS_SECTION = "Infobox"

# Infobox parameters that are pictures or layout, never facts.
_SKIPPED_INFOBOX_FIELDS = re.compile(
    r"^(image|logo|caption|alt|map|pushpin|signature|coordinates|coor|footnotes|module|embed|"
    r"image_size|logo_size|imagesize|logo_caption|image_caption|upright|width|label_position|mapsize|onlysourced)"
)
_INFOBOX_LABELS = {
    "foundation": "Founded", "founded": "Founded", "founder": "Founders", "founders": "Founders",
    "hq_location": "Headquarters", "headquarters": "Headquarters", "location": "Location",
    "homepage": "Website", "website": "Website", "url": "Website", "num_employees": "Employees",
    "key_people": "Key people", "area_served": "Area served", "birth_date": "Born",
    "death_date": "Died", "birth_place": "Birthplace", "death_place": "Place of death",
}
_DATE_TEMPLATES = {
    "start date", "start date and age", "end date", "birth date", "birth date and age",
    "death date", "death date and age", "film date", "dts", "date", "start and end dates",
    "birth year and age", "death year and age",
}
_FIRST_PARAM_TEMPLATES = {
    "nowrap", "nobr", "small", "big", "sic", "abbr", "lang", "ill", "interlanguage link",
    "math", "mvar", "var", "flag", "flagcountry", "smallcaps", "sc", "nowiki", "keypress",
    "vanchor", "anchor text", "lang-en", "iast", "linktext", "visible anchor", "nts", "nts1", "smaller",
    "noitalic", "nobold", "tooltip", "vr", "small caps", "quote", "nowrap begin", "keypress",
    "angle bracket", "resize", "larger", "nihongo",
}
# Templates whose last positional parameter is the text (the first names a language or a script).
_LAST_PARAM_TEMPLATES = {"transl", "native name", "sort"}
# List templates, rendered as one comma-separated line.
_LIST_TEMPLATES = {"hlist", "flatlist", "plainlist", "unbulleted list", "ubl", "bulleted list", "blist", "ubil",
                   "br separated entries", "comma separated entries", "enum", "cslist"}
# {{convert|7|–|10|kg}}: the words between the two ends of a range, and how they read.
_CONVERT_RANGES = {"-": "–", "–": "–", "to": " to ", "to(-)": " to ", "and": " and ", "and(-)": " and ",
                   "or": " or ", "by": " by ", "x": " × ", "×": " × ", "+/-": " ± ", "±": " ± "}
# {{convert}}'s unit codes where the symbol a reader expects differs from the code.
_CONVERT_UNITS = {"C": "°C", "F": "°F", "K": "K", "C-change": "°C", "F-change": "°F", "km2": "km²", "m2": "m²",
                  "cm2": "cm²", "sqmi": "sq mi", "sqft": "sq ft", "m3": "m³", "km3": "km³", "ft3": "cu ft",
                  "cuft": "cu ft", "oilbbl": "barrels", "oilbbl/d": "barrels per day", "USgal": "US gallons",
                  "impgal": "imperial gallons", "LT": "long tons", "ST": "short tons", "MT": "tonnes", "t": "tonnes",
                  "e6carat": "million carats", "PD/sqmi": "per sq mi", "PD/km2": "per km²", "acre": "acres"}
# Multiplier prefixes of those codes: ``e6acre`` is a million acres, ``Moilbbl/d`` a million barrels a day.
_CONVERT_MULTIPLIERS = (("e3", "thousand "), ("e6", "million "), ("e9", "billion "), ("k", "thousand "),
                        ("M", "million "), ("G", "billion "), ("T", "trillion "))
_LITERAL_TEMPLATES = {
    "snd": " – ", "spaced ndash": " – ", "ndash": "–", "mdash": "—", "nbsp": " ", "'": "'",
    "-": "", "•": " • ", "dot": " · ", "·": " · ", "=": "=", "!": "|",
}
_CHINESE_PARAMS = [("s", "simplified"), ("t", "traditional"), ("c", "Chinese"), ("p", "pinyin"),
                   ("j", "Jyutping"), ("y", "Yale"), ("l", "literally")]


# Openers and closers whose unclosed openers make mwparserfromhell backtrack over the rest of the
# page, once per opener: quadratic time (a crafted 34 KB page took 10 s).
_PAIRED_MARKUP = (
    ("{{", re.compile(r"\{\{|\}\}")),
    ("[[", re.compile(r"\[\[|\]\]")),
    ("<ref>", re.compile(r"<ref(?:\s[^<>]*)?(?<!/)>|</ref\s*>", re.I)),
)
# Each unclosed opener costs one pass over the rest of the page: a few are harmless (a ``{{`` inside
# <math>, a ``<ref>`` inside a comment, as real articles have), thousands are an attack.
UNCLOSED_TOLERATED = 16
_EXTERNAL_LINK_OPEN = re.compile(r"\[(?=(?:https?:|ftp:|mailto:|//))(?![^\]\n]*\])", re.I)


def defuse_unclosed_markup(wikitext: str) -> tuple[str, int]:
    """Delete openers that are never closed, so parsing stays linear; returns the text and how many.

    A linear stack scan per kind of bracket: real pages have none or a handful, crafted ones
    thousands. An external link opener ``[http…`` is unclosed when no ``]`` follows on its line.
    Up to ``UNCLOSED_TOLERATED`` are left for the parser, which renders them as it always has.

    >>> defuse_unclosed_markup("a {{b " * 20)[1]
    20
    """
    unclosed: list[tuple[int, int]] = []
    for opener, pattern in _PAIRED_MARKUP:
        stack = []
        for match in pattern.finditer(wikitext):
            if match.group().startswith(opener[:2]) and not match.group().startswith("</"):
                stack.append((match.start(), match.end()))
            elif stack:
                stack.pop()
        unclosed.extend(stack)
    unclosed.extend((m.start(), m.end()) for m in _EXTERNAL_LINK_OPEN.finditer(wikitext))
    if len(unclosed) <= UNCLOSED_TOLERATED:
        return wikitext, 0
    pieces, position = [], 0
    for start, end in sorted(unclosed):
        if start < position:
            continue
        pieces.append(wikitext[position:start])
        pieces.append("\n" * wikitext.count("\n", start, end))   # so every line stays where it was
        position = end
    pieces.append(wikitext[position:])
    return "".join(pieces), len(unclosed)


class WikitextRenderer:
    """Render wikitext to readable text.

    >>> rendered = WikitextRenderer()("'''SenseTime''' ({{zh|s=商汤科技}}) is an [[Artificial intelligence|AI]] company.")
    >>> rendered.text
    'SenseTime (商汤科技) is an AI company.'
    """

    def __call__(self, wikitext: str) -> ParsedDocument:
        wikitext, unclosed = defuse_unclosed_markup(wikitext)
        warning = f"{unclosed} unclosed {{{{, [[, [http or <ref> markers were removed before parsing" if unclosed else ""
        code = mwparserfromhell.parse(wikitext)
        named_refs = _named_reference_urls(code)
        out = TextBuilder()
        inline = _Inline(named_refs, out)
        facts: list[_Fact] = []
        skip_below: int | None = None
        # Each top-level node's lines in the page: parsed wikitext is its nodes' text end to end, so
        # a node starts on the line where the one before it ends.
        last_line = 1
        for node in code.nodes:
            source = str(node)
            first_line, last_line = last_line, last_line + source.count("\n")
            if isinstance(node, Heading):
                level = node.level
                if skip_below is not None and level > skip_below:
                    continue
                skip_below = None
                title = _Inline(named_refs, None).render(node.title).strip()
                if title.lower() in DROPPED_SECTIONS:
                    out.close_headings(level)
                    skip_below = level
                    continue
                out.at_source(first_line, last_line)
                out.heading(level, title)
                continue
            if skip_below is not None:
                continue
            if isinstance(node, Template) and _is_block_fact_template(node):
                facts.extend(_facts_from(node, named_refs, first_line))
                continue
            if facts and not (isinstance(node, Text) and not source.strip()):
                _write_facts(out, facts)
                out.paragraph_break()
                facts = []
                out.start_section(out.section_path())
            if isinstance(node, Text):
                out.at_source(first_line)   # the page's own text: its line breaks are the page's
            else:
                out.at_source(first_line, last_line)   # rendered: it stands for all its lines
            out.write(inline.render_node(node))
        if facts:
            _write_facts(out, facts)
        return out.build(title=_title_of(code), warning=warning)


@dataclass(frozen=True)
class _Fact:
    """One infobox field as a statement ("Founded: October 2014"), and the page lines of its field."""

    text: str
    first_line: int
    last_line: int


def _write_facts(out: TextBuilder, facts: list["_Fact"]) -> None:
    """The facts as one paragraph of the Infobox section, each marked with its field's lines."""
    out.start_section(_FACTS_SECTION)
    for position, fact in enumerate(facts):
        out.at_source(fact.first_line, fact.last_line)
        out.write(("" if position == 0 else " ") + fact.text + ".")


def _title_of(code: Wikicode) -> str:
    """The infobox ``name``, else the first bold term of the lead (``'''SenseTime'''``)."""
    for template in code.filter_templates(recursive=False):
        if _template_name(template).startswith("infobox") and template.has("name"):
            name = _Inline({}, None).render(template.get("name").value).strip()
            if name:
                return name
    for tag in code.filter_tags(recursive=False, matches=lambda n: str(n.tag) == "b"):
        bold = _Inline({}, None).render(tag.contents).strip()
        if bold:
            return bold
    return ""


def is_redirect(wikitext: str) -> bool:
    return wikitext.lstrip()[:9].upper() == "#REDIRECT"


class _Inline:
    """Renders inline nodes; reports references to ``out`` when given."""

    def __init__(self, named_refs: dict[str, tuple[str, ...]], out: TextBuilder | None):
        self.named_refs = named_refs
        self.out = out
        # Inside a <ref> the parser failed to recognise, whose text spans several nodes.
        self.in_unparsed_ref = False

    def render(self, code: Wikicode | str | None) -> str:
        if code is None:
            return ""
        if isinstance(code, str):
            code = mwparserfromhell.parse(code)
        return "".join(self.render_node(node) for node in code.nodes)

    def render_node(self, node) -> str:
        if isinstance(node, Text):
            return self._text(str(node))
        if self.in_unparsed_ref:
            return ""
        if isinstance(node, HTMLEntity):
            return node.normalize()
        if isinstance(node, Comment):
            return ""
        if isinstance(node, Wikilink):
            return self._wikilink(node)
        if isinstance(node, ExternalLink):
            return self.render(node.title) if node.title else ("" if node.brackets else str(node.url))
        if isinstance(node, Tag):
            return self._tag(node)
        if isinstance(node, Template):
            return self._template(node)
        return ""

    def _text(self, text: str) -> str:
        kept = []
        while text:
            if self.in_unparsed_ref:
                close = _UNPARSED_REF_CLOSE.search(text)
                if not close:
                    return "".join(kept)
                text = text[close.end():]
                self.in_unparsed_ref = False
            opening = _UNPARSED_REF_OPEN.search(text)
            if not opening:
                kept.append(text)
                break
            kept.append(text[:opening.start()])
            text = text[opening.end():]
            self.in_unparsed_ref = True
        return _clean_leftover_markup("".join(kept))

    def _wikilink(self, node: Wikilink) -> str:
        target = str(node.title).strip()
        namespace = target.lstrip(":").split(":", 1)[0].strip().lower() if ":" in target else ""
        if namespace in _DROPPED_LINK_NAMESPACES or (not target.startswith(":") and _INTERWIKI.match(target)):
            return ""
        if node.text:
            return self.render(node.text)
        return target.lstrip(":").split("#", 1)[0] or target.split("#", 1)[-1]

    def _tag(self, node: Tag) -> str:
        name = str(node.tag).strip().lower()
        if name == "ref":
            self._reference(node)
            return ""
        if name in {"references", "gallery", "timeline", "score", "graph", "templatedata", "imagemap"}:
            return ""
        if name in {"br", "hr"}:
            return "\n"
        if name in {"li", "dt", "dd"}:
            return "\n"
        if name == "table":
            return "\n" + self._table(node) + "\n"
        if name == "tr":
            return "\n" + self.render(node.contents)
        if name in {"td", "th"}:
            return self.render(node.contents).strip() + " | "
        if name in {"caption"}:
            return "\n" + self.render(node.contents) + "\n"
        return self.render(node.contents) if node.contents else ""

    def _table(self, node: Tag) -> str:
        """Rows as "row label, column header: value" statements; a row of ``!`` cells is a header.
        A caption stays a line of its own above them."""
        rows, caption, loose_cells = [], "", []
        for child in node.contents.nodes if node.contents else ():
            if not isinstance(child, Tag):
                continue
            tag = str(child.tag).strip().lower()
            if tag == "caption":
                caption = self.render(child.contents).strip()
            elif tag in {"td", "th"}:
                loose_cells.append(child)   # cells before the first |- belong to an implicit row
            elif tag == "tr":
                rows.append([cell for cell in (child.contents.nodes if child.contents else ())
                             if isinstance(cell, Tag) and str(cell.tag).strip().lower() in {"td", "th"}])
        if loose_cells:
            rows.insert(0, loose_cells)
        table_rows = [TableRow(tuple(self.render(cell.contents).strip() for cell in cells),
                               header=all(str(cell.tag).strip().lower() == "th" for cell in cells))
                      for cells in rows if cells]
        return "\n".join(([caption] if caption else []) + table_statements(table_rows))

    def _reference(self, node: Tag) -> None:
        if self.out is None:
            return
        urls = _urls_in(node.contents) if node.contents else ()
        if not urls and node.has("name"):
            urls = self.named_refs.get(str(node.get("name").value).strip(), ())
        self.out.add_reference(urls)

    def _template(self, node: Template) -> str:
        name = _template_name(node)
        positional = [self.render(p.value).strip() for p in node.params if not p.showkey]
        if name in _LITERAL_TEMPLATES:
            return _LITERAL_TEMPLATES[name]
        if name in _DATE_TEMPLATES:
            return _render_date(positional)
        if name in {"zh", "zh-full"} or name.startswith("lang-zh"):
            values = [self.render(p.value).strip() for p in node.params if p.showkey and str(p.name).strip() in dict(_CHINESE_PARAMS)]
            return "; ".join(v for v in values if v) or (positional[0] if positional else "")
        if name == "lang" and len(positional) >= 2:
            return positional[1]
        if name.startswith("lang-") or name.startswith("langx"):
            return positional[-1] if positional else ""
        if name == "url":
            return positional[1] if len(positional) > 1 else (positional[0] if positional else "")
        if name in {"convert", "cvt"}:
            return _render_convert(positional)
        if name in _LAST_PARAM_TEMPLATES:
            return positional[-1] if positional else ""
        if name in _LIST_TEMPLATES:
            return ", ".join(item for item in positional if item)
        if name == "val" and positional:
            unit = next((self.render(p.value).strip() for p in node.params if p.showkey and str(p.name).strip() in ("u", "ul")), "")
            return f"{positional[0]} {unit}".strip()
        if name == "sortname" and len(positional) >= 2:
            return f"{positional[0]} {positional[1]}"
        if name in {"us$", "usd"}:
            return "US$" + (positional[0] if positional else "")
        if name in {"as of"}:
            return "As of " + " ".join(positional[:1])
        if name in {"circa", "c."}:
            return "c. " + (positional[0] if positional else "")
        if name in {"frac", "fraction", "sfrac"} and positional:
            if len(positional) == 1:
                return f"1/{positional[0]}"
            if len(positional) == 2:
                return "/".join(positional)
            return f"{positional[0]} {positional[1]}/{positional[2]}"
        if name in _FIRST_PARAM_TEMPLATES:
            return positional[0] if positional else ""
        return ""


_LEFTOVER_FILE_LINK = re.compile(r"\[\[(?:File|Image):[^\[\]]*(?:\[\[[^\]]*\]\][^\[\]]*)*\]\]", re.I)
_LEFTOVER_LINK = re.compile(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]")
_LEFTOVER_TABLE_LINE = re.compile(r"^\s*(\{\||\|\}|\|-|\|\+).*$", re.M)
_LEFTOVER_TABLE_CELL = re.compile(r"^\s*[|!]\s*(?:[^|\n\[]*=[^|\n]*\|(?!\|))?\s*", re.M)
_UNPARSED_REF_OPEN = re.compile(r"<ref(?:\s[^>]*)?(?<!/)>", re.I)
_UNPARSED_REF_CLOSE = re.compile(r"</ref\s*>", re.I)
_LEFTOVER_REF = re.compile(r"<ref[^>/]*/>|<ref[^>]*>.*?</ref\s*>", re.S | re.I)
_LEFTOVER_TAG = re.compile(r"</?(?:blockquote|small|big|center|div|span|sup|sub|br|poem|u|s|i|b|p|font|nowiki)\b[^>]*>", re.I)


def _clean_leftover_markup(text: str) -> str:
    """Markup the parser left as plain text (it gives up on some deep or malformed
    structures): strip it with patterns rather than show brackets to the reader."""
    if "[[" not in text and "\n|" not in text and "{|" not in text and "<" not in text:
        return text
    text = _LEFTOVER_REF.sub("", text)
    text = _LEFTOVER_TAG.sub("", text)
    text = _LEFTOVER_FILE_LINK.sub("", text)
    text = _LEFTOVER_LINK.sub(r"\1", text)
    text = _LEFTOVER_TABLE_LINE.sub("", text)
    return _LEFTOVER_TABLE_CELL.sub("", text)


def _template_name(node: Template) -> str:
    return str(node.name).strip().replace("_", " ").lower()


def _is_block_fact_template(node: Template) -> bool:
    name = _template_name(node)
    return name.startswith("infobox") or name == "chinese"


def _facts_from(node: Template, named_refs: dict[str, tuple[str, ...]], first_line: int = 1) -> list[_Fact]:
    """The template's facts; ``first_line``: the page line the template starts on."""
    inline = _Inline(named_refs, None)
    source = str(node)
    if _template_name(node) == "chinese":
        params = {str(p.name).strip(): inline.render(p.value).strip() for p in node.params if p.showkey}
        named = [(label, params[key]) for key, label in _CHINESE_PARAMS if params.get(key)]
        if not named:
            return []
        first_label, first = named[0]
        rest = "; ".join(f"{label}: {value}" for label, value in named[1:])
        return [_Fact(f"Chinese name: {first}" + (f" ({rest})" if rest else ""), first_line,
                      first_line + source.count("\n"))]
    facts, position = [], 0
    for param in node.params:
        # The template's text is its name and parameters in order: each is found after the last.
        written = str(param)
        found = source.find(written, position)
        if found >= 0:
            position = found + len(written)
        line = first_line + source.count("\n", 0, max(found, 0))
        param_lines = (line, line + written.strip().count("\n")) if found >= 0 else (first_line, first_line + source.count("\n"))
        key = str(param.name).strip().lower()
        if not param.showkey or _SKIPPED_INFOBOX_FIELDS.match(key):
            continue
        value = " ".join(inline.render(param.value).split()).strip(" ,;")
        if not value:
            continue
        label = _INFOBOX_LABELS.get(key) or key.replace("_", " ").strip().capitalize()
        facts.append(_Fact(f"{label}: {value}", *param_lines))
    return facts


def _render_convert(positional: list[str]) -> str:
    """``{{convert|7|–|10|kg|lb}}`` as "7–10 kg": both ends of a range and the unit, not the conversion.

    >>> _render_convert(["40", "to", "50", "cm", "in"]), _render_convert(["2381741", "km2", "sqmi"])
    ('40 to 50 cm', '2381741 km²')
    """
    if not positional:
        return ""
    amount, position = positional[0], 1
    while position + 1 < len(positional) and positional[position].lower() in _CONVERT_RANGES:
        amount += _CONVERT_RANGES[positional[position].lower()] + positional[position + 1]
        position += 2
    unit = positional[position] if position < len(positional) else ""
    return f"{amount} {_unit_symbol(unit)}".strip()


def _unit_symbol(code: str) -> str:
    if code in _CONVERT_UNITS:
        return _CONVERT_UNITS[code]
    for prefix, words in _CONVERT_MULTIPLIERS:
        rest = code[len(prefix):]
        if code.startswith(prefix) and rest in _CONVERT_UNITS and rest not in {"t", "C", "F", "K"}:
            return words + _CONVERT_UNITS[rest]
    return code


def _render_date(positional: list[str]) -> str:
    values = [v for v in positional if v]
    if not values:
        return ""
    if not values[0].isdigit():
        return values[0]
    numbers = [v for v in values[:3] if v.isdigit()]
    year = numbers[0]
    month = calendar.month_name[int(numbers[1])] if len(numbers) > 1 and 1 <= int(numbers[1]) <= 12 else ""
    day = str(int(numbers[2])) if len(numbers) > 2 else ""
    return " ".join(part for part in (day, month, year) if part)


def _urls_in(code: Wikicode) -> tuple[str, ...]:
    urls = []
    for template in code.filter_templates(recursive=True):
        if template.has("url"):
            url = str(template.get("url").value).strip()
            if url:
                urls.append(url)
    if not urls:
        urls.extend(str(link.url).strip() for link in code.filter_external_links(recursive=False))
    return tuple(dict.fromkeys(url for url in map(safe_url, urls) if url))


def _named_reference_urls(code: Wikicode) -> dict[str, tuple[str, ...]]:
    named = {}
    for tag in code.filter_tags(recursive=True, matches=lambda n: str(n.tag).strip().lower() == "ref"):
        if tag.has("name") and tag.contents:
            urls = _urls_in(tag.contents)
            if urls:
                named[str(tag.get("name").value).strip()] = urls
    return named


# Each marker's inner class excludes its own opener, so a run of crafted ``[`` or ``{`` is matched in
# linear time (``[^\]\n]+`` rescans the run once per opener: 1 s for 20 KB of ``[``).
_WIKI_MARKERS = re.compile(r"\[\[[^\[\]\n]+\]\]|\{\{[^{}\n]*|^=={1,5}[^=\n]+=+\s*$|'''[^'\n]+'''|<ref[ >]", re.M)
_WIKI_MIN_MARKERS = 3


def looks_like_wikitext(text: str) -> bool:
    return len(_WIKI_MARKERS.findall(text[:20000])) >= _WIKI_MIN_MARKERS


FORMAT = Format("wikitext", looks_like_wikitext, WikitextRenderer())
