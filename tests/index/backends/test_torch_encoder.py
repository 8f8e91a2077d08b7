"""The torch backend (index/backends/torch_encoder.py): fp32 and bf16 weights, and sentence vectors
pooled from the passage's own forward pass."""
import numpy as np
import pytest

from index.backends.torch_encoder import TorchEncoder
from index.embedder import resolve_model

TEXTS = ["SenseTime was co-founded in October 2014. It is based in Hong Kong.",
         "The ferry leaves the harbour every 20 minutes on weekdays."]


@pytest.fixture(scope="module")
def fp32():
    return TorchEncoder(resolve_model("all-MiniLM-L6-v2"), precision="fp32")


def test_fp32_vectors_are_unit_length_and_bf16_weights_agree_closely(fp32):
    vectors = fp32(TEXTS)
    assert vectors.shape == (2, 384) == (2, fp32.dimension) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    bf16 = TorchEncoder(resolve_model("all-MiniLM-L6-v2"), precision="bf16")
    assert bf16.precision == "bf16"
    assert np.sum(bf16(TEXTS) * vectors, axis=1).min() > 0.99


def test_sentence_vectors_come_from_the_same_pass_and_follow_their_sentence(fp32):
    first_end = TEXTS[0].index(" It is")
    passages, sentences = fp32.encode_with_spans(TEXTS, [[(0, first_end), (first_end + 1, len(TEXTS[0]))],
                                                         [(0, len(TEXTS[1]))]])
    np.testing.assert_allclose(passages, fp32(TEXTS), atol=1e-4)
    assert [s.shape for s in sentences] == [(2, 384), (1, 384)]
    founded, based = fp32(["SenseTime was co-founded in October 2014.", "It is based in Hong Kong."])
    assert sentences[0][0] @ founded > sentences[0][0] @ based
    assert sentences[0][1] @ based > sentences[0][1] @ founded
    assert sentences[1][0] @ passages[1] > 0.9, "a span over the whole text pools nearly the passage vector"
