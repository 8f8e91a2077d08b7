"""The real corpora in ../shared/bench ingest end to end without a crash."""
import pytest

from ingest import Chunker


def _ingest(name, load_bench, embedder):
    docs, warnings = load_bench(name)
    chunker = Chunker(count_tokens=embedder.count_tokens)
    return warnings, docs, [p for d in docs for p in chunker(d)]


@pytest.mark.slow
def test_whole_wikitext_dump_ingests(load_bench, embedder):
    warnings, docs, passages = _ingest("wikitext", load_bench, embedder)
    articles = [d for d in docs if d.source.startswith("enwiki-latest")]
    assert len(articles) == 106
    assert warnings == []
    assert all(d.format == "wikitext" for d in docs)
    # The parser leaves a malformed table (Andre Agassi) and a multi-line file caption (Ambiguity) as text.
    assert sum("[[" in d.text or "<ref" in d.text for d in docs) <= 2
    assert len(passages) > 3000
    anarchism = next(d for d in articles if d.title == "Anarchism")
    assert any(s.label.startswith("History") for s in anarchism.sections)


@pytest.mark.slow
def test_whole_news_front_matter_set_ingests(load_bench, embedder):
    _, docs, passages = _ingest("news_frontmatter", load_bench, embedder)
    posts = [d for d in docs if d.format == "frontmatter"]
    assert len(posts) == 509
    assert all(d.title and d.published for d in posts)
    assert len(passages) > 3000
