"""Choosing weights on the dev splits (eval/tuning.py), on small real inputs: the tie rule, the
nothing-found threshold trials from real answer candidates, and the printed and saved report."""
import itertools
import json

import pytest

from eval.seeds import load_seed_questions
from eval.tuning import (KIND_WEIGHTS, OVERLAP_WEIGHTS, RANK_PENALTIES, AnswerTrial, FusionTrial, ThresholdTrial,
                         Tuning, _best, _threshold_trials, print_tuning)
from index import IndexStore
from qa import QA
from qa.answer import AnswerWeights


def test_the_best_trial_and_among_equals_the_current_setting():
    trials = [FusionTrial(1.0, 0, 0.5, 0.5), FusionTrial(3.0, 0, 0.6, 0.4), FusionTrial(2.0, 0, 0.4, 0.4)]
    assert _best(trials, lambda t: t.objective, lambda t: t.dense_weight == 3.0).dense_weight == 3.0
    assert _best(trials, lambda t: t.objective, lambda t: False).dense_weight == 1.0, "else the first of equals"
    assert trials[0].objective == 0.5


def test_threshold_trials_from_real_candidates_trade_answers_for_declines(seed_index, embedder):
    qa = QA(IndexStore.open(seed_index), embedder)
    try:
        answerable = load_seed_questions()[:6]
        unanswerable = ["What colour is the Wenlow ferry?", "How tall is the Kestrel lighthouse?"]
        asked = [q.question for q in answerable] + unanswerable
        candidates = [qa.extract_answer.candidates(question, qa.retriever(question, 5)) for question in asked]
    finally:
        qa.close()
    trials = _threshold_trials(AnswerWeights(), answerable, [type("Q", (), {"question": q})() for q in unanswerable],
                               candidates)
    assert trials and [t.min_score for t in trials] == sorted(t.min_score for t in trials)
    kept = [t.answerable_correct for t in trials]
    declined = [t.unanswerable_declined for t in trials]
    assert kept == sorted(kept, reverse=True) and declined == sorted(declined), "a higher bar keeps less, declines more"
    assert kept[0] > 0 and declined[-1] > 0


def test_the_tuning_is_printed_with_the_choices_marked_and_saved_as_json(tmp_path, capsys):
    fusion = (FusionTrial(1.0, 0.0, 0.6, 0.7), FusionTrial(3.0, 0.5, 0.7, 0.7))
    answer = tuple(AnswerTrial(o, p, k, 0.5) for o, p, k in itertools.product(OVERLAP_WEIGHTS, RANK_PENALTIES,
                                                                              KIND_WEIGHTS))
    thresholds = (ThresholdTrial(0.6, 0.8, 0.0), ThresholdTrial(0.7, 0.79, 0.2))
    tuning = Tuning(fusion, answer, fusion[1], answer[0], thresholds, thresholds[1], {"questions_dev": 98})
    print_tuning(tuning, tmp_path / "reports" / "tuning.json")
    out = capsys.readouterr().out
    assert out.count("<- chosen") == 2 and "chosen: overlap 0.0, rank penalty 0.0, kind 0.0, focus" in out and "(0.500)" in out
    saved = json.loads((tmp_path / "reports" / "tuning.json").read_text())
    assert saved["best_threshold"]["min_score"] == pytest.approx(0.7) and len(saved["answer"]) == len(answer)
