"""Reciprocal rank fusion (index/fusion.py): Qdrant's weighted formula, weights, ties."""
import pytest

from index.fusion import BM25_WEIGHT, DENSE_WEIGHT, RRF_K, reciprocal_rank_fusion, rrf_score


def test_a_rank_scores_one_over_rank_by_weight_plus_k_minus_one():
    assert rrf_score(1, 1.0) == pytest.approx(1 / RRF_K)
    assert rrf_score(3, 2.0, k=10) == pytest.approx(1 / (1.5 + 9))
    assert rrf_score(1, 0.0) == 0.0 and rrf_score(1, -1.0) == 0.0


def test_a_row_in_both_rankings_sums_its_shares_and_ties_go_to_the_lower_row():
    dense, bm25 = [(7, 0.9), (3, 0.8)], [(3, 12.0), (5, 9.0)]
    fused = reciprocal_rank_fusion((dense, bm25), (1.0, 1.0))
    assert [row for row, _ in fused] == [3, 7, 5]
    assert fused[0][1] == pytest.approx(rrf_score(2, 1.0) + rrf_score(1, 1.0))
    tied = reciprocal_rank_fusion(([(7, 0.9)], [(5, 9.0)]), (1.0, 1.0))
    assert [row for row, _ in tied] == [5, 7] and tied[0][1] == tied[1][1], "a tie goes to the lower row"


def test_the_weights_decide_which_ranking_leads():
    dense, bm25 = [(1, 0.9), (3, 0.7)], [(2, 20.0), (4, 5.0)]
    assert [row for row, _ in reciprocal_rank_fusion((dense, bm25), (DENSE_WEIGHT, BM25_WEIGHT))] == [1, 3, 2, 4]
    assert [row for row, _ in reciprocal_rank_fusion((dense, bm25), (BM25_WEIGHT, DENSE_WEIGHT))] == [2, 4, 1, 3]
    assert [row for row, _ in reciprocal_rank_fusion((dense, bm25), (1.0, 0.0))][:2] == [1, 3]


def test_the_scores_themselves_never_count_only_the_order():
    fused = reciprocal_rank_fusion(([(4, 1e9), (9, -5.0)],), (1.0,))
    assert fused == [(4, pytest.approx(rrf_score(1, 1.0))), (9, pytest.approx(rrf_score(2, 1.0)))]
    assert reciprocal_rank_fusion((), ()) == [] and reciprocal_rank_fusion(([], []), (1.0, 1.0)) == []
