"""The embedding model (index/embedder.py): the bundled weights offline, unit-length vectors whose
cosine follows meaning, token counts, and a one-line refusal for a model that is not here."""
import numpy as np
import pytest

from index.embedder import DEFAULT_MODEL, Embedder, ModelUnavailable, model_slug, resolve_model
from index.settings import Settings, docqa_cache


def test_vectors_are_unit_length_float32_and_close_in_meaning_means_close_in_space(embedder):
    vectors = embedder(["When was SenseTime founded?", "SenseTime was co-founded in October 2014.",
                        "The ferry leaves the harbour every 20 minutes."])
    assert vectors.shape == (3, embedder.dimension) == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    question, founding, ferry = vectors
    assert question @ founding > 0.5 > question @ ferry
    assert embedder([]).shape == (0, 384)


def test_sentence_vectors_come_from_the_same_pass_as_the_passage_vector(embedder):
    text = "SenseTime was founded in 2014. It is based in Hong Kong."
    spans = [[(0, 30), (31, len(text))]]
    passages, sentences = embedder.embed_with_spans([text], spans)
    assert passages.shape == (1, 384) and sentences[0].shape == (2, 384)
    np.testing.assert_allclose(passages[0], embedder([text])[0], atol=1e-3)
    assert embedder.embed_with_spans([], [])[0].shape == (0, 384)


def test_token_counts_use_the_models_tokenizer(embedder):
    short, longer = embedder.count_tokens(["SenseTime", "SenseTime was co-founded in October 2014 by Tang Xiao'ou."])
    assert 1 <= short < longer < 30


def test_the_bundled_model_resolves_offline_and_an_unknown_name_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("DOCQA_ALLOW_DOWNLOAD", raising=False)
    assert resolve_model(DEFAULT_MODEL) == resolve_model("sentence-transformers/all-MiniLM-L6-v2")
    assert resolve_model(str(tmp_path)) == str(tmp_path), "a local folder is used as given"
    with pytest.raises(ModelUnavailable, match="neither the bundled model nor a local folder") as refused:
        Embedder("someone/their-model")
    assert "\n" not in str(refused.value) and "--allow-download" in str(refused.value)
    allowed = Settings.from_environment({"DOCQA_ALLOW_DOWNLOAD": "1"})
    assert resolve_model("someone/their-model", allowed) == "someone/their-model"


def test_cache_folders_follow_xdg_and_model_names_become_one_path_component(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert docqa_cache() == tmp_path / "docqa"
    assert model_slug("sentence-transformers/all-MiniLM-L6-v2") == "sentence-transformers-all-MiniLM-L6-v2"
    assert "/" not in model_slug("../../etc/passwd") and model_slug("../../etc/passwd") != ".."
