"""``python -m eval tune``: choose the fusion and answer-scoring weights on the dev splits only.

The fusion weight is chosen on two dev sets at once: the question set's **dev** split (passages of
the bench wikitext and news corpora) and SciFact **train** (809 queries; its test split is only
reported). The answer-scoring weights, and the score below which ``ask`` says nothing answers, are
chosen on the question set's dev split. The test splits
never take part: they are scored afterwards, once, with ``python -m eval questions --split test``
and ``python -m eval beir ../shared/bench/scifact``.
"""
from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tqdm.auto import tqdm

from index.backends import AUTO
from qa.answer import FOCUS_WEIGHT, KIND_WEIGHT, LABEL_WEIGHT, MIN_SCORE, OVERLAP_WEIGHT, RANK_PENALTY, AnswerWeights
from qa.retriever import BM25_WEIGHT, DENSE_WEIGHT, SENTENCE_WEIGHT, Retriever
from eval import BENCH
from eval.beir import document_ranker, load_beir, open_beir_index
from eval.matching import answer_in
from eval.metrics import evaluate
from eval.questions import load_questions, open_questions_index, question_qrels
from eval.runner import passage_ranker

# Only the ratio of the two weights changes a fused ranking, so BM25's stays 1.
DENSE_WEIGHTS = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 3.0)
# The best-sentence re-fusion of hybrid's top rows, tried at the chosen dense weight (0: off).
SENTENCE_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
OVERLAP_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
RANK_PENALTIES = (0.0, 0.005, 0.01, 0.02, 0.04, 0.08)
KIND_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
FOCUS_WEIGHTS = (0.0, 0.1, 0.25)
LABEL_WEIGHTS = (0.0, 0.1, 0.2)
# The nothing-found threshold may cost at most this share of the dev questions their correct answer:
# plausible unanswerable questions score like answerable ones (docs/benchmarks.md, "Answers"), so a threshold
# that caught most of them would turn away many answerable ones.
MAX_ANSWERS_LOST = 0.02


@dataclass(frozen=True)
class FusionTrial:
    dense_weight: float
    sentence_weight: float
    questions_dev_ndcg10: float
    scifact_train_ndcg10: float

    @property
    def objective(self) -> float:
        return (self.questions_dev_ndcg10 + self.scifact_train_ndcg10) / 2


@dataclass(frozen=True)
class AnswerTrial:
    overlap: float
    rank_penalty: float
    kind: float
    questions_dev_accuracy: float
    focus: float = FOCUS_WEIGHT
    label: float = LABEL_WEIGHT


@dataclass(frozen=True)
class ThresholdTrial:
    min_score: float
    answerable_correct: float       # share of dev answerable questions answered with an accepted answer
    unanswerable_declined: float    # share of dev unanswerable questions answered "nothing found"


@dataclass(frozen=True)
class HeldOutFold:
    """One fold of the cross-validation inside dev: the answer weights the grid chose on the other
    folds, and how many of this fold's questions they answer."""

    fold: int
    questions: int
    correct: int
    chosen: AnswerTrial


@dataclass(frozen=True)
class CrossValidation:
    """``python -m eval tune --folds K``: the answer-weight choice scored on questions it did not see.
    ``accuracy`` is the held-out answer accuracy over all folds (each question scored once, by
    weights chosen without it); the in-sample figure is ``Tuning.best_answer``'s."""

    folds: tuple[HeldOutFold, ...]
    accuracy: float


@dataclass(frozen=True)
class Tuning:
    fusion: tuple[FusionTrial, ...]
    answer: tuple[AnswerTrial, ...]
    best_fusion: FusionTrial
    best_answer: AnswerTrial
    thresholds: tuple[ThresholdTrial, ...]
    best_threshold: ThresholdTrial
    settings: dict
    cross_validation: CrossValidation | None = None


def _best(trials, score, current):
    """The best trial; among equals, the one with the current setting, else the first."""
    top = max(map(score, trials))
    tied = [trial for trial in trials if score(trial) == top]
    return next((trial for trial in tied if current(trial)), tied[0])


def dev_folds(questions, folds: int) -> list[int]:
    """The fold of each of ``questions``: all questions of one gold document share a fold (so no
    document feeds both sides), and documents are dealt round robin in order of their first
    question's kind and paraphrase flag, so each fold holds a like mix of kinds.

    >>> from eval.questions import load_questions
    >>> dev = [q for q in load_questions("dev") if q.answerable]
    >>> folds = dev_folds(dev, 5)
    >>> sorted(set(folds)), all(len({f for f, q in zip(folds, dev) if q.source == s}) == 1 for s in {q.source for q in dev})
    ([0, 1, 2, 3, 4], True)
    """
    if folds < 2:
        raise ValueError(f"--folds must be at least 2, not {folds}")
    by_document = defaultdict(list)
    for position, question in enumerate(questions):
        by_document[question.source].append(position)
    documents = sorted(by_document.values(), key=lambda members: (questions[members[0]].kind, questions[members[0]].paraphrase,
                                                                   -len(members), questions[members[0]].qid))
    fold_of = [0] * len(questions)
    for number, members in enumerate(documents):
        for position in members:
            fold_of[position] = number % folds
    return fold_of


def tune(bench: Path = BENCH, backend: str = AUTO, progress: bool = True, fusion_weights: bool = True,
         folds: int = 0) -> Tuning:
    """With ``fusion_weights`` False the fusion keeps its current weights (no SciFact pass), and only
    the answer weights and the decline threshold are chosen. With ``folds`` (2 or more) the answer
    weights are also chosen ``folds`` times, each on all folds of dev but one and scored on that one
    (``CrossValidation``)."""
    qa = open_questions_index(bench=bench, backend=backend, progress=progress)
    dev = [q for q in load_questions("dev") if q.answerable]
    qrels = question_qrels(dev, qa.store)
    rank = passage_ranker(qa)

    scifact = load_beir(bench / "scifact", "train")
    store, embedder = open_beir_index(scifact, progress=progress, embedder=qa.embedder)
    scifact_retriever = Retriever(store, embedder)
    scifact_rank = document_ranker(store, scifact_retriever)

    def trial(dense_weight: float, sentence_weight: float) -> FusionTrial:
        for retriever in (qa.retriever, scifact_retriever):
            retriever.weights, retriever.sentence_weight = (dense_weight, BM25_WEIGHT), sentence_weight
        rankings = {q.qid: rank(q.question, "hybrid", 10) for q in dev}
        scifact_rankings = {qid: scifact_rank(text, "hybrid", 100) for qid, text in scifact.queries.items()}
        return FusionTrial(dense_weight, sentence_weight, evaluate(qrels, rankings).means["nDCG@10"],
                           evaluate(scifact.qrels, scifact_rankings, success_at=()).means["nDCG@10"])

    # Two steps: the dense weight of the plain fusion, then the sentence re-fusion on top of it.
    if fusion_weights:
        fusion = [trial(weight, 0.0) for weight in tqdm(DENSE_WEIGHTS, desc="fusion weights", disable=not progress)]
        best_dense = _best(fusion, lambda t: t.objective, lambda t: t.dense_weight == DENSE_WEIGHT).dense_weight
        fusion += [trial(best_dense, weight) for weight in tqdm(SENTENCE_WEIGHTS[1:], desc="sentence weights",
                                                                disable=not progress)]
    else:
        fusion, best_dense = [trial(DENSE_WEIGHT, SENTENCE_WEIGHT)], DENSE_WEIGHT
    best_fusion = _best([t for t in fusion if t.dense_weight == best_dense], lambda t: t.objective,
                        lambda t: t.sentence_weight == SENTENCE_WEIGHT)
    qa.retriever.sentence_weight = best_fusion.sentence_weight

    qa.retriever.weights = (best_fusion.dense_weight, BM25_WEIGHT)
    unanswerable = [q for q in load_questions("dev") if not q.answerable]
    asked = dev + unanswerable
    vectors = qa.embedder([q.question for q in asked])
    candidates = [qa.extract_answer.candidates(q.question, qa.retriever(q.question, 5, question_vector=vector), vector)
                  for q, vector in zip(asked, tqdm(vectors, desc="answer candidates", disable=not progress))]
    answer, correct_by_trial = [], []
    for overlap, penalty, kind, focus, label in itertools.product(OVERLAP_WEIGHTS, RANK_PENALTIES, KIND_WEIGHTS,
                                                                  FOCUS_WEIGHTS, LABEL_WEIGHTS):
        weights = AnswerWeights(overlap=overlap, rank_penalty=penalty, kind=kind, focus=focus, label=label)
        correct = [bool(found) and any(answer_in(max(found, key=weights.score).text, a) for a in q.answers)
                   for q, found in zip(dev, candidates)]
        answer.append(AnswerTrial(overlap, penalty, kind, sum(correct) / len(dev), focus, label))
        correct_by_trial.append(correct)
    current = (OVERLAP_WEIGHT, RANK_PENALTY, KIND_WEIGHT, FOCUS_WEIGHT, LABEL_WEIGHT)

    def is_current(trial: AnswerTrial) -> bool:
        return (trial.overlap, trial.rank_penalty, trial.kind, trial.focus, trial.label) == current

    best_answer = _best(answer, lambda t: t.questions_dev_accuracy, is_current)
    cross_validation = _cross_validate(dev, answer, correct_by_trial, folds, is_current) if folds else None
    weights = AnswerWeights(best_answer.overlap, best_answer.rank_penalty, best_answer.kind,
                            focus=best_answer.focus, label=best_answer.label)
    thresholds = _threshold_trials(weights, dev, unanswerable, candidates)
    affordable = [t for t in thresholds if t.answerable_correct >= best_answer.questions_dev_accuracy - MAX_ANSWERS_LOST]
    # Among equals the lowest threshold: it turns away the fewest answerable questions elsewhere.
    best_threshold = max(affordable, key=lambda t: (t.unanswerable_declined, -t.min_score))
    settings = {"questions_index": qa.store.location, "questions_dev": len(dev), "scifact_train": len(scifact.queries),
                "questions_dev_unanswerable": len(unanswerable), "backend": qa.embedder.backend,
                "bm25_weight": BM25_WEIGHT, "max_answers_lost": MAX_ANSWERS_LOST,
                "current": {"dense_weight": DENSE_WEIGHT, "sentence_weight": SENTENCE_WEIGHT, "overlap": OVERLAP_WEIGHT,
                            "rank_penalty": RANK_PENALTY,
                            "kind": KIND_WEIGHT, "focus": FOCUS_WEIGHT, "label": LABEL_WEIGHT, "min_score": MIN_SCORE}}
    return Tuning(tuple(fusion), tuple(answer), best_fusion, best_answer, thresholds, best_threshold, settings,
                  cross_validation)


def _cross_validate(dev, trials, correct_by_trial, folds: int, is_current) -> CrossValidation:
    """For each fold, the trial with the most right answers on the other folds (the current weights
    among equals), scored on the fold."""
    fold_of = dev_folds(dev, folds)
    held_out = []
    for fold in range(folds):
        training = [i for i, f in enumerate(fold_of) if f != fold]
        scored = [i for i, f in enumerate(fold_of) if f == fold]
        on_training = {id(trial): sum(correct[i] for i in training) for trial, correct in zip(trials, correct_by_trial)}
        chosen = _best(trials, lambda t: on_training[id(t)], is_current)
        correct = correct_by_trial[trials.index(chosen)]
        held_out.append(HeldOutFold(fold, len(scored), sum(correct[i] for i in scored), chosen))
    return CrossValidation(tuple(held_out), sum(f.correct for f in held_out) / len(dev))


def _threshold_trials(weights: AnswerWeights, answerable, unanswerable, candidates) -> tuple[ThresholdTrial, ...]:
    """Each distinct best-sentence support (``AnswerWeights.support``) as a nothing-found threshold,
    with what it keeps and declines."""
    best = [max(found, key=weights.score) if found else None for found in candidates]
    # A sentence without the kind of answer asked for is declined at any threshold.
    any_support = replace(weights, min_score=float("-inf"))
    scores = [weights.support(chosen) if chosen and any_support.supports(q.question, chosen) else float("-inf")
              for q, chosen in zip([*answerable, *unanswerable], best)]
    correct = [chosen is not None and any(answer_in(chosen.text, a) for a in q.answers)
               for q, chosen in zip(answerable, best)]
    trials = []
    for threshold in sorted({round(score, 3) for score in scores if score > float("-inf")}):
        kept = sum(ok and score >= threshold for ok, score in zip(correct, scores))
        declined = sum(score < threshold for score in scores[len(answerable):])
        trials.append(ThresholdTrial(threshold, kept / len(answerable), declined / max(1, len(unanswerable))))
    return tuple(trials)


def print_tuning(tuning: Tuning, path: Path) -> None:
    print(f"fusion (BM25 weight {BM25_WEIGHT}): nDCG@10 on the dev splits")
    print("dense weight  sentence weight  questions dev  SciFact train  mean")
    for trial in tuning.fusion:
        mark = "  <- chosen" if trial == tuning.best_fusion else ""
        print(f"{trial.dense_weight:12.2f}  {trial.sentence_weight:15.2f}  {trial.questions_dev_ndcg10:13.3f}"
              f"  {trial.scifact_train_ndcg10:13.3f}"
              f"  {trial.objective:.3f}{mark}")
    print(f"\nanswer weights: answer accuracy on questions dev (hybrid, dense weight {tuning.best_fusion.dense_weight})")
    best = tuning.best_answer
    by_cell = {(t.overlap, t.rank_penalty, t.kind): t.questions_dev_accuracy for t in tuning.answer
               if (t.focus, t.label) == (best.focus, best.label)}
    for kind in KIND_WEIGHTS:
        print(f"kind weight {kind}")
        print("overlap \\ rank penalty  " + "  ".join(f"{p:6.3f}" for p in RANK_PENALTIES))
        for overlap in OVERLAP_WEIGHTS:
            print(f"{overlap:22.2f}  " + "  ".join(f"{by_cell[overlap, p, kind]:6.3f}" for p in RANK_PENALTIES))
    print(f"(the grids at focus {best.focus}, label {best.label})")
    print(f"chosen: overlap {best.overlap}, rank penalty {best.rank_penalty}, kind {best.kind}, focus {best.focus}, "
          f"label {best.label} "
          f"({best.questions_dev_accuracy:.3f})")
    if tuning.cross_validation is not None:
        cv = tuning.cross_validation
        print(f"\ncross-validated inside dev ({len(cv.folds)} folds by gold document): weights chosen on the other folds")
        print("fold  questions  right  chosen (overlap, rank penalty, kind, focus, label)")
        for fold in cv.folds:
            c = fold.chosen
            print(f"{fold.fold:4d}  {fold.questions:9d}  {fold.correct:5d}  {c.overlap}, {c.rank_penalty}, {c.kind}, {c.focus}, {c.label}")
        print(f"held-out answer accuracy {cv.accuracy:.3f} (in-sample {best.questions_dev_accuracy:.3f})")
    print(f"\nnothing-found threshold: the most dev unanswerable questions declined for at most "
          f"{MAX_ANSWERS_LOST:.0%} of dev answer accuracy, and the lowest such")
    print("min score  answerable correct  unanswerable declined")
    first_of_each = {}
    for trial in tuning.thresholds:            # the lowest threshold for each share declined
        first_of_each.setdefault(trial.unanswerable_declined, trial)
    for trial in sorted({*first_of_each.values(), tuning.best_threshold}, key=lambda t: t.min_score):
        mark = "  <- chosen" if trial == tuning.best_threshold else ""
        print(f"{trial.min_score:9.3f}  {trial.answerable_correct:18.3f}  {trial.unanswerable_declined:21.3f}{mark}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(tuning), indent=2))
    print(f"report: {path}")
