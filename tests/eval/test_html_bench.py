"""The HTML reader's benchmark against trafilatura (eval/html_bench.py): the real text of a page is
its article element without navigation, counted as a multiset of words."""
import pytest

from eval.html_bench import _words, main, real_text
from support import FORMAT_FIXTURES

PAGE = ("<html><body><nav>Home News</nav><main><h1>Ferry</h1><nav>Contents</nav><p>The ferry leaves at 9.</p>"
        "<script>var x = 1;</script><span aria-hidden=true>icon</span></main><footer>Privacy</footer></body></html>")


def test_the_real_text_is_the_selected_element_without_navigation_or_scripts():
    text = real_text(PAGE, "main")
    assert _words(text) == _words("Ferry The ferry leaves at 9.")
    assert real_text(PAGE, "#missing") is None
    assert _words("The the THE ferry") == {"the": 3, "ferry": 1}


def test_the_fixture_page_keeps_its_article_text():
    page = (FORMAT_FIXTURES / "harbour-ferry.html").read_text()
    assert "every 20 minutes on weekdays" in " ".join(real_text(page, "main").split())


def test_without_trafilatura_the_comparison_says_what_to_install(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_trafilatura(name, *args, **kwargs):
        if name == "trafilatura":
            raise ImportError("No module named 'trafilatura'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_trafilatura)
    with pytest.raises(SystemExit, match="pip install trafilatura lxml_html_clean"):
        main([f"main={tmp_path}/*.html"])
