"""Reading an index folder (index/store.py): documents, passages and their text, searches in each
mode, references, sentence vectors, and a manifest that cannot be read. The safety of versions and
damaged files is tested in test_store_safety.py."""
import json

import pytest

from index.store import IndexCorrupt, IndexMismatch, IndexStore, Manifest, check_index, current_version
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
