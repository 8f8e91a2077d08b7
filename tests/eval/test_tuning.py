"""Choosing weights on the dev splits (eval/tuning.py), on small real inputs: the tie rule, the
nothing-found threshold trials from real answer candidates, and the printed and saved report."""
import itertools
import json

import pytest

from eval.seeds import load_seed_questions
from eval.questions import load_questions
from eval.tuning import (KIND_WEIGHTS, OVERLAP_WEIGHTS, RANK_PENALTIES, AnswerTrial, FusionTrial, ThresholdTrial,
                         Tuning, _best, _cross_validate, _threshold_trials, dev_folds, print_tuning)
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


def test_dev_folds_keep_each_gold_document_on_one_side_and_mix_the_kinds():
    dev = [q for q in load_questions("dev") if q.answerable]
    folds = dev_folds(dev, 5)
    assert len(folds) == len(dev) and set(folds) == set(range(5))
    assert all(len({f for f, q in zip(folds, dev) if q.source == source}) == 1 for source in {q.source for q in dev})
    sizes = [folds.count(f) for f in range(5)]
    assert max(sizes) - min(sizes) <= 6, sizes
    numbers = [sum(q.kind == "number" for f, q in zip(folds, dev) if f == fold) for fold in range(5)]
    assert min(numbers) >= 4, numbers
    with pytest.raises(ValueError, match="at least 2"):
        dev_folds(dev, 1)


def test_cross_validation_scores_each_fold_with_weights_chosen_without_it():
    dev = [q for q in load_questions("dev") if q.answerable]
    folds = dev_folds(dev, 5)
    # Trial 0 is right on fold 0 only, trial 1 everywhere but fold 0: the folds that train trial 1
    # outnumber fold 0, so every fold but fold 0 chooses trial 1, and fold 0 (choosing trial 1 too)
    # is scored wrong.
    trials = [AnswerTrial(0.0, 0.0, 0.0, 0.0), AnswerTrial(0.5, 0.0, 0.0, 0.0)]
    correct = [[f == 0 for f in folds], [f != 0 for f in folds]]
    cv = _cross_validate(dev, trials, correct, 5, lambda t: False)
    assert [fold.chosen for fold in cv.folds] == [trials[1]] * 5
    assert cv.folds[0].correct == 0 and cv.accuracy == pytest.approx(folds.count(0) and sum(f != 0 for f in folds) / len(dev))
    assert sum(fold.questions for fold in cv.folds) == len(dev)
