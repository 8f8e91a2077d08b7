"""Reading an index folder (index/store.py): documents, passages and their text, searches in each
mode, references, sentence vectors, and a manifest that cannot be read. The safety of versions and
damaged files is tested in test_store_safety.py.

The folder store under a scope (``--where``): a real index of the seeds, two Markdown notes with
front matter and a PDF, searched by dense, BM25 and hybrid with the real model."""
import json
from pathlib import Path

import pytest

from index.lexical import LexicalIndex
from index.scope import Scope
from index.store import IndexCorrupt, IndexMismatch, IndexStore, Manifest, check_index, current_version
from qa.api import QA
from qa.retriever import MODES
from support import WIKI_SEED


@pytest.fixture(scope="module")
def store(seed_index):
    opened = IndexStore.open(seed_index)
    yield opened
    opened.close()


def test_documents_summaries_and_passages_agree(store):
    documents = store.documents()
    summaries = store.document_summaries()
    assert store.count_documents() == len(documents) == len(summaries) == 5
    assert sum(s.passages for s in summaries) == store.count_passages() == store.manifest.passages
    assert [s.title.lower() for s in summaries] == sorted(s.title.lower() for s in summaries)
    wiki = next(d for d in documents if d.source == WIKI_SEED)
    assert store.document(wiki.doc_id) == wiki and store.document("no-such-id") is None
    passages = store.passages_of(wiki.doc_id)
    assert [p.ordinal for p, _ in passages] == list(range(len(passages)))
    for passage, embed_key in passages:
        assert passage.text == wiki.text[passage.start:passage.end] and embed_key
    assert store.document_keys([wiki.doc_id, "nope"]) == {wiki.doc_id: wiki.key}
    assert store.document_paths()[wiki.key] == wiki.path


def test_rows_map_to_passages_with_citation_fields(store):
    labels = store.row_labels()
    assert len(labels) == store.count_passages()
    stored = store.passages([0, len(labels) - 1])
    for row, item in stored.items():
        assert labels[row] == (item.passage.passage_id, item.source) and item.title
    assert store.passages([]) == {} and store.labels([0]) == {0: labels[0]}


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_search_in_each_mode_finds_the_founding_passage(store, embedder, mode):
    question = "When was SenseTime founded?"
    vectors = embedder([question]) if mode != "bm25" else None
    (ranking,) = store.search([question], vectors, 5, mode, (3.0, 1.0))
    assert len(ranking) == 5 and all(a[1] >= b[1] for a, b in zip(ranking, ranking[1:]))
    assert store.labels([ranking[0][0]])[ranking[0][0]][1] == WIKI_SEED


def test_reference_urls_and_sentence_vectors(store):
    wiki = next(d for d in store.documents() if d.source == WIKI_SEED)
    offset = wiki.text.index("co-founded in October 2014")
    assert "http://fortune.com/40-under-40/xu-li-7/" in store.reference_urls(wiki.doc_id, offset, offset + 10)
    assert store.reference_urls("no-such-id", 0, 10) == ()
    passage, _ = store.passages_of(wiki.doc_id)[0]
    vectors = store.sentence_vectors(passage.passage_id)
    assert vectors is not None and vectors.shape[1] == store.manifest.dimension
    assert store.sentence_vectors("no-such-passage") is None


def test_check_index_finds_nothing_wrong_in_a_fresh_index(seed_index):
    version, problems = check_index(seed_index)
    assert version == current_version(seed_index) and problems == []


def test_a_manifest_that_cannot_be_read_is_refused_in_one_line(tmp_path):
    version = tmp_path / "index" / "v1"
    version.mkdir(parents=True)
    path = version / "manifest.json"
    with pytest.raises(IndexCorrupt, match="is missing"):
        Manifest.read(path)
    for content, message in (("{not json", "is not valid JSON"), ("[]", "holds no manifest"),
                             (json.dumps({"format_version": 99}), "has index format 99"),
                             (json.dumps({"format_version": 3, "model": "m"}), "lacks dimension")):
        path.write_text(content)
        with pytest.raises((IndexCorrupt, IndexMismatch), match=message) as refused:
            Manifest.read(path)
        assert "\n" not in str(refused.value)


QUESTION = "How many nesting pairs did the survey count?"


@pytest.fixture(scope="module")
def scoped_store(scoped_index):
    store = IndexStore.open(scoped_index)
    yield store
    store.close()


def _documents_of(store, hits):
    by_id = {d.doc_id: d for d in store.scoped_documents()}
    return [by_id[hit.citation.doc_id] for hit in hits]


def test_front_matter_fields_and_formats_are_kept_for_scopes(scoped_store):
    by_path = {Path(d.path).name: d for d in scoped_store.scoped_documents()}
    assert {(f.name, f.value) for f in by_path["kestrel.md"].fields} >= {("tags", "birds"), ("tags", "python")}
    assert by_path["kestrel.md"].published.startswith("2021-06-14") and by_path["survey.pdf"].format == "pdf"
    assert scoped_store.document(by_path["falcon.md"].doc_id).fields[-1].name == "tags"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", [["path=notes/"], ["format=pdf"], ["tag=birds"], ["date<2020"],
                                   ["path=docs/*.md"], ["format=frontmatter", "category=news"], ["date>=2021-08", "path!=notes/"],
                                   ["format=text,wikitext"], ["path!=reports/"]])
def test_every_hit_satisfies_the_scope(scoped_store, embedder, mode, where):
    scope = Scope.parse(where)
    hits = QA(scoped_store, embedder).retrieve(QUESTION, k=10, mode=mode, where=scope)
    assert all(scope.allows(document) for document in _documents_of(scoped_store, hits))
    allowed_rows = scoped_store.scope_rows(scope)
    assert 0 < len(allowed_rows) < scoped_store.count_passages()
    assert len(hits) == min(10, len(allowed_rows)) or mode == "bm25"


def test_the_right_answer_comes_back_from_inside_the_scope(scoped_store, embedder):
    qa = QA(scoped_store, embedder)
    assert qa.ask(QUESTION, where="path=notes/").short == "42"
    assert qa.ask(QUESTION, where=["format=pdf"]).short == "412"
    answer = qa.ask("When was SenseTime founded?", where=["path=/", "path!=notes/", "date!=2021"])
    assert answer.short == "October 2014" and answer.answer_citation.source == WIKI_SEED
    outside = qa.ask("When was SenseTime founded?", where="path=reports/")
    assert {hit.citation.source for hit in outside.hits} == {"survey.pdf"}


def test_a_scope_that_allows_nothing_finds_nothing(scoped_store, embedder):
    qa = QA(scoped_store, embedder)
    for mode in MODES:
        assert qa.retrieve(QUESTION, k=5, mode=mode, where="format=docx") == []
    assert not qa.ask(QUESTION, where="tag=nonexistent").answered


def test_bm25_scores_only_the_allowed_rows(scoped_store):
    lexical: LexicalIndex = scoped_store.lexical
    allowed = scoped_store.scope_rows(Scope.parse("format=pdf"))
    everything = lexical.search([QUESTION], 50)[0]
    scoped = lexical.search([QUESTION], 50, allowed)[0]
    assert scoped and {row for row, _ in scoped} <= set(allowed.tolist())
    assert [row for row, _ in scoped] == [row for row, _ in everything if row in set(allowed.tolist())]
    assert [s for _, s in scoped] == pytest.approx([s for row, s in everything if row in set(allowed.tolist())])


def test_is_built_from_says_whether_a_build_of_the_folder_would_change_nothing(seed_corpus_copy, tmp_path, embedder):
    from index.builder import IndexBuilder
    from index.store import is_built_from
    from ingest.chunker import Chunking

    index_dir = tmp_path / "index"
    IndexBuilder(index_dir, progress=False, embedder=embedder)([seed_corpus_copy])
    assert is_built_from(index_dir, seed_corpus_copy, Chunking(), "all-MiniLM-L6-v2")
    assert not is_built_from(index_dir, seed_corpus_copy, Chunking(), "another-model")
    assert not is_built_from(tmp_path / "nothing-here", seed_corpus_copy, Chunking(), "all-MiniLM-L6-v2")
    extra = seed_corpus_copy / "extra.txt"
    extra.write_text("A file the index does not hold.\n")
    assert not is_built_from(index_dir, seed_corpus_copy, Chunking(), "all-MiniLM-L6-v2"), "a file more"
    extra.unlink()
    first = sorted(seed_corpus_copy.glob("*.txt"))[0]
    first.write_text(first.read_text() + "\nOne more line.\n")
    assert not is_built_from(index_dir, seed_corpus_copy, Chunking(), "all-MiniLM-L6-v2"), "a changed file"
    IndexBuilder(index_dir, progress=False, embedder=embedder)([seed_corpus_copy])
    assert is_built_from(index_dir, seed_corpus_copy, Chunking(), "all-MiniLM-L6-v2")
    manifest = current_version(index_dir) / "manifest.json"
    manifest.write_text("{not json")
    assert not is_built_from(index_dir, seed_corpus_copy, Chunking(), "all-MiniLM-L6-v2"), "a damaged manifest"
