"""Which links are safe to show as links: a document is untrusted, its URLs are too."""
from __future__ import annotations

from urllib.parse import urlsplit

SAFE_SCHEMES = ("http", "https", "mailto")


def safe_url(url: str) -> str:
    """``url`` when its scheme is http, https or mailto, else ``""``.

    >>> safe_url("https://example.org/a"), safe_url("javascript:alert(1)"), safe_url(" JaVaScRiPt:x")
    ('https://example.org/a', '', '')
    """
    url = (url or "").strip()
    # Browsers drop tabs and newlines inside a scheme ("java\tscript:"), so judge the URL as they will.
    compact = "".join(url.split())
    try:
        scheme = urlsplit(compact).scheme.lower()
    except ValueError:
        return ""
    return url if scheme in SAFE_SCHEMES and compact == url else ""
