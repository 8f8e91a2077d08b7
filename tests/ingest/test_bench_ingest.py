"""The real corpora in ../shared/bench ingest end to end without a crash."""
from ingest import Chunker, DocumentLoader
from support import bench_path


def _ingest(path, embedder):
    loader = DocumentLoader()
    chunker = Chunker(count_tokens=embedder.count_tokens)
    docs = list(loader([path]))
    passages = [p for d in docs for p in chunker(d)]
    return loader, docs, passages


def test_whole_wikitext_dump_ingests(embedder):
    loader, docs, passages = _ingest(bench_path("wikitext"), embedder)
    articles = [d for d in docs if d.source.startswith("enwiki-latest")]
    assert len(articles) == 106
    assert loader.warnings == []
    assert all(d.format == "wikitext" for d in docs)
    # The parser leaves a malformed table (Andre Agassi) and a multi-line file caption (Ambiguity) as text.
    assert sum("[[" in d.text or "<ref" in d.text for d in docs) <= 2
    assert len(passages) > 3000
    anarchism = next(d for d in articles if d.title == "Anarchism")
    assert any(s.label.startswith("History") for s in anarchism.sections)


def test_whole_news_front_matter_set_ingests(embedder):
    loader, docs, passages = _ingest(bench_path("news_frontmatter"), embedder)
    posts = [d for d in docs if d.format == "frontmatter"]
    assert len(posts) == 509
    assert all(d.title and d.published for d in posts)
    assert len(passages) > 3000
