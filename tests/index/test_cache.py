"""The embedding cache (index/cache.py): vectors by (model, text) with their backend and sentence
vectors, chunked look-ups, pruning, an old cache's upgrade, and a damaged file set aside."""
import logging
import sqlite3

import numpy as np

from index.cache import LEGACY_BACKEND, EmbeddingCache, embedding_key


def test_the_key_depends_on_model_and_text():
    keys = {embedding_key("m1", "text"), embedding_key("m2", "text"), embedding_key("m1", "text2")}
    assert len(keys) == 3 and embedding_key("m1", "text") == embedding_key("m1", "text")
    assert len(embedding_key("m", "t")) == 32


def test_vectors_come_back_with_their_backend_and_float16_sentence_vectors(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    vectors = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    sentences = [np.full((3, 4), 0.25, dtype=np.float32), None]
    cache.put_many(["a", "b"], vectors, "openvino-fp32", sentences)
    found = cache.get_many(["b", "a", "missing", "a"])
    assert set(found) == {"a", "b"}
    np.testing.assert_array_equal(found["a"].vector, vectors[0])
    assert found["a"].backend == "openvino-fp32" and found["a"].sentences.dtype == np.float16
    np.testing.assert_array_equal(found["a"].sentences, np.full((3, 4), 0.25, dtype=np.float16))
    assert found["b"].sentences is None
    cache.close()
    reopened = EmbeddingCache(tmp_path / "cache.sqlite")
    np.testing.assert_array_equal(reopened.get_many(["b"])["b"].vector, vectors[1])
    reopened.close()


def test_look_ups_past_sqlites_variable_limit_and_pruning(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    keys = [f"k{i}" for i in range(2500)]
    cache.put_many(keys, np.ones((2500, 2), dtype=np.float32), "torch-fp32")
    assert len(cache.get_many(keys)) == 2500
    assert cache.retain(keys[:10]) == 2490
    assert sorted(cache.get_many(keys)) == sorted(keys[:10])
    assert cache.retain(keys[:10]) == 0
    cache.close()


def test_a_cache_from_before_backends_and_sentences_is_upgraded_in_place(tmp_path):
    path = tmp_path / "cache.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
    old.execute("INSERT INTO vectors VALUES (?, ?)", ("old", np.arange(3, dtype=np.float32).tobytes()))
    old.commit()
    old.close()
    cache = EmbeddingCache(path)
    found = cache.get_many(["old"])["old"]
    assert found.backend == LEGACY_BACKEND == "torch-fp32" and found.sentences is None
    np.testing.assert_array_equal(found.vector, [0.0, 1.0, 2.0])
    cache.put_many(["new"], np.zeros((1, 3), dtype=np.float32), "openvino-bf16")
    assert cache.get_many(["new"])["new"].backend == "openvino-bf16"
    cache.close()


def test_a_damaged_cache_is_moved_aside_with_a_warning_and_started_afresh(tmp_path, caplog):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="docqa.index"):
        cache = EmbeddingCache.open_or_reset(path)
    assert cache.get_many(["anything"]) == {}
    cache.put_many(["x"], np.zeros((1, 2), dtype=np.float32), "torch-fp32")
    assert set(cache.get_many(["x"])) == {"x"}
    cache.close()
    (aside,) = tmp_path.glob("cache.sqlite.damaged-*")
    assert aside.read_bytes().startswith(b"this is not a database")
    assert "the embedding cache is damaged" in caplog.text
