"""Sentence vectors pooled at index time: one per sentence, made in the passage's own forward pass,
upgraded into indexes built before them, and enough for ``ask`` to choose an answer with no model pass."""
import json
import sqlite3

import numpy as np
import pytest

from index import IndexStore
from index.store import IndexStoreError
from index.builder import IndexBuilder
from index.sentence_vectors import COUNTS_FILE, VECTORS_FILE
from ingest import BUNDLED_CORPUS
from ingest.sentences import split_sentences
from qa import QA


def test_every_passage_has_one_unit_vector_per_sentence(seed_index, embedder):
    store = IndexStore.open(seed_index)
    for document in store.documents():
        for passage, _ in store.passages_of(document.doc_id):
            vectors = store.sentence_vectors(passage.passage_id)
            assert vectors is not None and len(vectors) == len(split_sentences(passage.text))
            assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=2e-3)


def test_an_index_built_before_sentence_vectors_is_upgraded_once(seed_index_copy, embedder):
    live = IndexStore.open(seed_index_copy).version
    (live / COUNTS_FILE).unlink()
    (live / VECTORS_FILE).unlink()
    manifest = json.loads((live / "manifest.json").read_text())   # nor did it record every file's size
    manifest["checksums"] = {"dense.faiss": manifest["checksums"]["dense.faiss"]}
    del manifest["sizes"]
    (live / "manifest.json").write_text(json.dumps(manifest))
    with sqlite3.connect(seed_index_copy / "embeddings.sqlite") as db:
        db.execute("UPDATE vectors SET sentences = NULL")
    old = IndexStore.open(seed_index_copy)
    assert old.sentences is None and old.sentence_vectors(old.row_labels()[0][0]) is None
    qa_before = QA(old, embedder)
    assert "2014" in qa_before.ask("When was SenseTime founded?").answer   # still answers, embedding sentences
    report = IndexBuilder(seed_index_copy, progress=False, embedder=embedder)([BUNDLED_CORPUS])
    assert report.written and report.embedded == report.passages
    again = IndexBuilder(seed_index_copy, progress=False, embedder=embedder)([BUNDLED_CORPUS])
    assert not again.written
    assert IndexStore.open(seed_index_copy).sentences is not None


def test_ask_encodes_only_the_question(seed_index, embedder, monkeypatch):
    qa = QA(IndexStore.open(seed_index), embedder)
    calls = []
    real = type(embedder).__call__
    monkeypatch.setattr(type(embedder), "__call__", lambda self, texts: calls.append(list(texts)) or real(self, texts))
    for mode in ("hybrid", "bm25", "dense"):
        answer = qa.ask("When was SenseTime founded?", k=5, mode=mode)
        assert "October 2014" in answer.answer
    assert calls == [["When was SenseTime founded?"]] * 3


def test_a_damaged_sentence_file_is_a_clear_error(seed_index_copy):
    live = IndexStore.open(seed_index_copy).version
    np.save(live / COUNTS_FILE, np.load(live / COUNTS_FILE)[:-1], allow_pickle=False)
    with pytest.raises(IndexStoreError, match="sentence_counts.npy does not match .* rebuild"):
        IndexStore.open(seed_index_copy)
