"""Backend and build measurements (eval/embedding_bench.py), each run small on real inputs: the
numbers are not checked, only that each measurement measures what it says."""
import pytest

from eval.embedding_bench import ask_retrieve_latency, hardware_ceiling, sentence_pooling_overhead
from index import IndexStore
from index.embedder import resolve_model
from qa import QA


def test_ask_and_retrieve_are_timed_on_the_same_questions(seed_index, embedder):
    qa = QA(IndexStore.open(seed_index), embedder)
    try:
        result = ask_retrieve_latency(qa, ["When was SenseTime founded?", "Who founded SenseTime?"])
    finally:
        qa.close()
    assert result["ask"]["p50_ms"] > 0 and result["retrieve"]["p50_ms"] > 0
    assert result["ask_over_retrieve_p50"] == pytest.approx(result["ask"]["p50_ms"] / result["retrieve"]["p50_ms"])


def test_sentence_pooling_overhead_is_measured_round_by_round(embedder):
    passages = ["SenseTime was founded in 2014. It is based in Hong Kong.", "The ferry leaves at 9. It returns at 5."]
    result = sentence_pooling_overhead(embedder, passages, passages, rounds=2)
    assert result["passages"] == 2 and result["sentences"] == 4
    assert len(result["overhead_ratio_rounds"]) == 2 and result["overhead_ratio_median"] > 0
    assert [len(v) for v in result["seconds"].values()] == [2, 2]


def test_the_hardware_ceiling_follows_from_the_models_shape():
    result = hardware_ceiling(64.0, resolve_model("all-MiniLM-L6-v2"))
    assert 0.1 < result["gflop_per_passage"] < 2.0, "MiniLM-L6 at 64 tokens: about 0.6 GFLOP"
    assert set(result["ceiling_passages_per_s"]) == {"fp32", "bf16"}
    assert all(rate > 0 for rate in result["matmul_gflops"].values())
