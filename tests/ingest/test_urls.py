"""Which document URLs are shown as links (ingest/urls.py)."""
import pytest

from ingest.urls import safe_url


@pytest.mark.parametrize("url", ["https://example.org/a?b=1", "http://fortune.com/40-under-40/xu-li-7/",
                                 "mailto:editor@example.org", "  https://example.org/padded  "])
def test_http_https_and_mailto_are_kept(url):
    assert safe_url(url) == url.strip()


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
                                 "data:text/html,<b>x</b>", "file:///etc/passwd", "vbscript:x", "http://[::1",
                                 "https://exa mple.org", "", None])
def test_scripts_data_files_and_malformed_urls_are_dropped(url):
    assert safe_url(url) == ""
