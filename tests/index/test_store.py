"""The folder store under a scope (``--where``): a real index of the seeds, two Markdown notes with
front matter and a PDF, searched by dense, BM25 and hybrid with the real model."""
from pathlib import Path

import pytest

from index.lexical import LexicalIndex
from index.scope import Scope
from index.store import IndexStore
from qa.api import QA
from qa.retriever import MODES
from support import WIKI_SEED

QUESTION = "How many nesting pairs did the survey count?"


@pytest.fixture(scope="module")
def store(scoped_index):
    store = IndexStore.open(scoped_index)
    yield store
    store.close()


def _documents_of(store, hits):
    by_id = {d.doc_id: d for d in store.scoped_documents()}
    return [by_id[hit.citation.doc_id] for hit in hits]


def test_front_matter_fields_and_formats_are_kept_for_scopes(store):
    by_path = {Path(d.path).name: d for d in store.scoped_documents()}
    assert {(f.name, f.value) for f in by_path["kestrel.md"].fields} >= {("tags", "birds"), ("tags", "python")}
    assert by_path["kestrel.md"].published.startswith("2021-06-14") and by_path["survey.pdf"].format == "pdf"
    assert store.document(by_path["falcon.md"].doc_id).fields[-1].name == "tags"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", [["path=notes/"], ["format=pdf"], ["tag=birds"], ["date<2020"],
                                   ["path=docs/*.md"], ["format=frontmatter", "category=news"], ["date>=2021-08", "path!=notes/"],
                                   ["format=text,wikitext"], ["path!=reports/"]])
def test_every_hit_satisfies_the_scope(store, embedder, mode, where):
    scope = Scope.parse(where)
    hits = QA(store, embedder).retrieve(QUESTION, k=10, mode=mode, where=scope)
    assert all(scope.allows(document) for document in _documents_of(store, hits))
    allowed_rows = store.scope_rows(scope)
    assert 0 < len(allowed_rows) < store.count_passages()
    assert len(hits) == min(10, len(allowed_rows)) or mode == "bm25"


def test_the_right_answer_comes_back_from_inside_the_scope(store, embedder):
    qa = QA(store, embedder)
    assert qa.ask(QUESTION, where="path=notes/").short == "42"
    assert qa.ask(QUESTION, where=["format=pdf"]).short == "412"
    answer = qa.ask("When was SenseTime founded?", where=["path=/", "path!=notes/", "date!=2021"])
    assert answer.short == "October 2014" and answer.answer_citation.source == WIKI_SEED
    outside = qa.ask("When was SenseTime founded?", where="path=reports/")
    assert {hit.citation.source for hit in outside.hits} == {"survey.pdf"}


def test_a_scope_that_allows_nothing_finds_nothing(store, embedder):
    qa = QA(store, embedder)
    for mode in MODES:
        assert qa.retrieve(QUESTION, k=5, mode=mode, where="format=docx") == []
    assert not qa.ask(QUESTION, where="tag=nonexistent").answered


def test_bm25_scores_only_the_allowed_rows(store):
    lexical: LexicalIndex = store.lexical
    allowed = store.scope_rows(Scope.parse("format=pdf"))
    everything = lexical.search([QUESTION], 50)[0]
    scoped = lexical.search([QUESTION], 50, allowed)[0]
    assert scoped and {row for row, _ in scoped} <= set(allowed.tolist())
    assert [row for row, _ in scoped] == [row for row, _ in everything if row in set(allowed.tolist())]
    assert [s for _, s in scoped] == pytest.approx([s for row, s in everything if row in set(allowed.tolist())])
