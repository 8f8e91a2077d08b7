"""How much of real web pages' text the HTML reader keeps, against trafilatura (docs/benchmarks.md, "Ingest").

    python -m eval.html_bench 'main=/root/.rustup/toolchains/stable-*/share/doc/rust/html/book/ch*.html' \\
                              '#apicontent=/usr/share/doc/nodejs/api/*.html'

Each argument is ``SELECTOR=GLOB``: the pages of one site, and the CSS selector of the element its
template keeps the article in. That element's text (navigation inside it removed) is the page's
real text; each reader is scored by the share of its words it keeps (a multiset of words) and the
share of its own output that is real text. Needs trafilatura, which docqa does not depend on
(``pip install trafilatura lxml_html_clean``).
"""
from __future__ import annotations

import argparse
import collections
import glob
import re
import statistics

from selectolax.lexbor import LexborHTMLParser

from ingest.formats import html

_WORD = re.compile(r"\w+")


def _words(text: str) -> collections.Counter:
    return collections.Counter(word.lower() for word in _WORD.findall(text))


def real_text(page: str, selector: str) -> str | None:
    node = LexborHTMLParser(page).css_first(selector)
    if node is None:
        return None
    for furniture in node.css("nav, script, style, [aria-hidden=true]"):
        furniture.decompose()
    return node.text(deep=True, separator=" ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.html_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("sites", nargs="+", metavar="SELECTOR=GLOB")
    args = parser.parse_args(argv)
    try:
        import trafilatura
    except ImportError as error:
        raise SystemExit(f"error: the comparison needs trafilatura ({error}): pip install trafilatura lxml_html_clean")
    readers = {"docqa (selectolax)": lambda page: html.parse(page).text,
               "trafilatura": lambda page: trafilatura.extract(page, include_tables=True) or ""}
    for site in args.sites:
        selector, _, pattern = site.rpartition("=")
        scores = {name: [] for name in readers}
        for path in sorted(glob.glob(pattern)):
            with open(path, encoding="utf-8", errors="replace") as handle:
                page = handle.read()
            gold = real_text(page, selector)
            if not gold or len(_WORD.findall(gold)) < 50:
                continue
            real = _words(gold)
            for name, read in readers.items():
                out = _words(read(page))
                kept = sum((real & out).values())
                scores[name].append((kept / sum(real.values()), kept / max(1, sum(out.values()))))
        print(f"{pattern} ({selector}): {len(scores[next(iter(readers))])} pages")
        for name, rows in scores.items():
            if rows:
                print(f"  {name:20} real text kept: median {statistics.median(r for r, _ in rows):.3f}, "
                      f"mean {statistics.mean(r for r, _ in rows):.3f}; output that is real text: "
                      f"median {statistics.median(p for _, p in rows):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
