"""Our use of pytrec_eval is checked against values worked out by hand, including the cases
other tools got wrong (IDCG over the relevant set, MRR with several gold documents)."""
import math

import pytest

from eval.metrics import evaluate, latency_percentiles, random_floor, success_curve


def test_ndcg_ideal_gain_counts_every_relevant_document_not_just_retrieved_ones():
    # 3 relevant, only one retrieved (at rank 1): IDCG must use all 3 relevant documents.
    summary = evaluate({"q": {"a": 1, "b": 1, "c": 1}}, {"q": ["a", "x", "y"]})
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert summary.means["nDCG@10"] == pytest.approx(1 / ideal)


def test_mrr_with_several_gold_documents_is_the_first_relevant_rank():
    summary = evaluate({"q": {"d1": 1, "d2": 1}}, {"q": ["x", "d2", "d1"]})
    assert summary.means["MRR@10"] == pytest.approx(0.5)
    assert summary.means["nDCG@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))
    assert (summary.means["Success@1"], summary.means["Success@5"]) == (0.0, 1.0)


def test_mrr_is_cut_at_ten():
    ranking = [f"x{i}" for i in range(10)] + ["gold"]
    assert evaluate({"q": {"gold": 1}}, {"q": ranking}).means["MRR@10"] == 0.0


def test_queries_without_results_count_as_zero_and_ties_keep_our_order():
    summary = evaluate({"q1": {"a": 1}, "q2": {"b": 1}}, {"q1": ["z", "a"]})
    assert summary.means["Success@1"] == 0.0 and summary.means["Success@5"] == 0.5
    assert summary.per_query["q2"]["MRR@10"] == 0.0
    # "z" < "a" would be reversed by trec_eval's id tie-break if scores were equal.
    assert summary.per_query["q1"]["MRR@10"] == 0.5


def test_trec_recall_at_100_is_the_share_of_relevant_documents_found():
    summary = evaluate({"q": {"a": 1, "b": 1, "c": 1, "d": 1}}, {"q": ["a", "x", "b"]}, success_at=(), recall_at=(100,))
    assert summary.means["Recall@100"] == pytest.approx(0.5)


def test_success_curve_and_latency():
    curve = success_curve({"q1": {"a": 1}, "q2": {"b": 1}}, {"q1": ["a"], "q2": ["x", "y", "b"]}, depth=3)
    assert curve == [0.5, 0.5, 1.0]
    assert latency_percentiles([0.010, 0.020, 0.030]) == {"p50_ms": pytest.approx(20.0), "p95_ms": pytest.approx(29.0)}


def test_random_floor_matches_the_closed_form_chance_of_a_hit():
    # 1 relevant of 24 candidates: P(hit in top 5) = 5/24, in top 10 = 10/24.
    qrels = {f"q{i}": {f"p{i % 24}": 1} for i in range(48)}
    floor = random_floor(qrels, [f"p{i}" for i in range(24)], depth=10, rounds=200)
    assert floor["Success@5"] == pytest.approx(5 / 24, abs=0.02)
    assert floor["Success@10"] == pytest.approx(10 / 24, abs=0.02)
    assert floor["MRR@10"] == pytest.approx(sum(1 / r for r in range(1, 11)) / 24, abs=0.01)
