"""Synthetic passages for the sized benchmark indexes (eval/synthetic.py)."""
import numpy as np

from eval.synthetic import synthetic_documents

POOL = [{"title": "SenseTime", "section": "History", "text": "SenseTime was founded in 2014."},
        {"title": "Ferry", "section": "", "text": "The ferry leaves every 20 minutes."}]


def test_documents_cycle_the_pool_with_variant_titles_and_unit_vectors_near_the_real_ones():
    base = np.eye(2, 8, dtype=np.float32)
    documents, passages, texts, vectors, _ = synthetic_documents(5, POOL, base)
    assert [d.title for d in documents] == ["SenseTime", "Ferry", "SenseTime (variant 1)", "Ferry (variant 1)",
                                            "SenseTime (variant 2)"]
    assert len({d.doc_id for d in documents}) == 5 and len({d.key for d in documents}) == 5
    for document, passage in zip(documents, passages):
        assert passage.doc_id == document.doc_id and passage.text == document.text[passage.start:passage.end]
    assert texts[2] == "SenseTime (variant 1)\nHistory\nSenseTime was founded in 2014."
    assert vectors.shape == (5, 8) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors @ base.T).max(axis=1).min() > 0.8, "each vector lies near one real embedding"


def test_the_same_size_draws_the_same_vectors():
    base = np.eye(2, 8, dtype=np.float32)
    np.testing.assert_array_equal(synthetic_documents(4, POOL, base)[3], synthetic_documents(4, POOL, base)[3])
