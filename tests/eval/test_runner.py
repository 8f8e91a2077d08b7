"""Running one query set through every mode (eval/runner.py), on a real index of the bundled
corpus: scores, timings, the random floor, and the answer scores."""
import pytest

from eval.runner import answer_scores, compare_modes, passage_ranker
from eval.seeds import load_seed_questions, seed_qrels
from index import IndexStore
from qa import QA


@pytest.fixture(scope="module")
def seed_qa(seed_index, embedder):
    return QA(IndexStore.open(seed_index), embedder)


def test_each_mode_is_scored_timed_and_set_against_the_random_floor(seed_qa):
    questions = load_seed_questions()[:8]
    qrels = seed_qrels(questions, seed_qa.store)
    candidates = [pid for pid, _ in seed_qa.store.row_labels()]
    report = compare_modes("seed sample", passage_ranker(seed_qa), {q.qid: q.question for q in questions}, qrels,
                           ["bm25", "hybrid"], depth=10, candidates=candidates, progress=False)
    assert report.queries == 8 and [r.mode for r in report.results] == ["bm25", "hybrid"]
    for result in report.results:
        assert set(result.metrics) >= {"Success@1", "Success@5", "Success@10"}
        assert result.metrics["Success@10"] >= result.metrics["Success@5"] >= result.metrics["Success@1"]
        assert result.metrics["Success@5"] > report.floor["Success@5"], "real retrieval beats chance"
        assert len(result.success_by_k) == 10 and result.latency["p50_ms"] > 0 and set(result.per_query) == set(qrels)


def test_the_ranker_returns_passage_ids_best_first(seed_qa):
    ids = passage_ranker(seed_qa)("When was SenseTime founded?", "hybrid", 5)
    assert len(ids) == len(set(ids)) == 5
    assert all(isinstance(pid, str) for pid in ids)


def test_answer_scores_count_answers_exact_short_answers_and_declines(seed_qa):
    questions = [q for q in load_seed_questions() if "founded" in q.question.lower()][:2]
    assert questions
    scores = answer_scores(seed_qa, questions, unanswerable=["What is the boiling point of SenseTime's ferry?"])
    assert scores["answer accuracy (hybrid, k=5)"] > 0
    assert set(scores) >= {"short answer exact (hybrid)", "unanswerable declined (hybrid, 1)"}
    assert all(0.0 <= value <= 1.0 for value in scores.values())
