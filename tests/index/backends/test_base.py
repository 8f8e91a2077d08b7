"""What every embedding backend shares (index/backends/base.py): span pooling, normalising, the
text a passage is embedded as, and token counts (the thread setting is Settings', tests/index/test_settings.py)."""
import numpy as np

from index.backends.base import (normalized, passage_embedding_text, pool_spans, stripped_with_spans,
                                 token_counts)


def test_span_pooling_averages_the_tokens_that_start_inside_each_span():
    hidden = np.array([[9.0, 9.0], [1.0, 0.0], [0.0, 1.0], [0.0, 3.0], [9.0, 9.0]], dtype=np.float32)
    offsets = np.array([[0, 0], [0, 4], [5, 8], [9, 12], [0, 0]])   # [CLS] word word word [SEP]
    mask = np.array([1, 1, 1, 1, 1])
    pooled = pool_spans(hidden, offsets, mask, [(0, 4), (5, 12), (40, 50)])
    np.testing.assert_allclose(pooled[0], [1.0, 0.0])
    np.testing.assert_allclose(pooled[1], [0.0, 1.0])   # (0, 1) and (0, 3) average to (0, 2), made unit length
    np.testing.assert_array_equal(pooled[2], [0.0, 0.0])   # a span past truncation gets zeros
    assert pooled.dtype == np.float32


def test_vectors_are_normalised_to_unit_length_and_zero_stays_zero():
    out = normalized([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])
    assert out.dtype == np.float32 and out.flags["C_CONTIGUOUS"]


def test_stripping_moves_the_spans_with_the_text():
    assert stripped_with_spans("  Hello world. ", [(2, 8), (8, 14)]) == ("Hello world.", [(0, 6), (6, 12)])


def test_a_passage_is_embedded_with_its_title_and_section():
    assert passage_embedding_text("SenseTime", "History > 2014", "It was founded.") == \
        "SenseTime\nHistory > 2014\nIt was founded."
    assert passage_embedding_text("", "", "Bare text.") == "Bare text."


def test_token_counts_with_the_models_tokenizer(embedder):
    assert token_counts(embedder.tokenizer, []) == []
    one, many = token_counts(embedder.tokenizer, ["hello", "hello " * 600])
    assert one == 1 and many == 600, "no special tokens, no truncation"
