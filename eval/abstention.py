"""``python -m eval abstain``: the decline rule (``qa.abstain``) on the question set's dev split,
in-sample and k-fold cross-validated inside dev. The test split takes no part.

For each dev question, ``ask``'s chosen sentence and its abstention signals are collected once. A
rule is one ``AbstentionRule`` and one support threshold; its cost is the dev answers it turns away
that would have been right (against declining nothing), its gain the unanswerable questions it
declines. The chosen rule declines the most unanswerable questions for at most ``MAX_ANSWERS_LOST``
of the answerable ones, then loses the fewest, then has the lowest threshold. Cross-validation
chooses it on k-1 folds of the questions and scores the fold left out, over several shuffles.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from eval import BENCH
from eval.matching import answer_in
from eval.questions import load_questions, open_questions_index
from eval.tuning import MAX_ANSWERS_LOST   # the same allowance as ``eval tune``'s threshold: 2% of the answerable
from index.backends import AUTO
from qa.abstain import AbstentionRule, AbstentionSignals, declines
from qa.answer import MIN_SCORE

NAMES_MISSING = (None, 1, 2, 3, 10**6)   # None: no check; 10**6: a missing number only
FOLDS = 5
SHUFFLES = 10
NO_CHECKS = AbstentionRule(min_names_missing=None, check_count=False, check_type=False, check_money=False)


@dataclass(frozen=True)
class AskedQuestion:
    qid: str
    question: str
    answerable: bool
    right: bool                 # the chosen sentence holds an accepted answer (before any decline)
    signals: AbstentionSignals


@dataclass(frozen=True)
class RuleScore:
    """What a rule does on some questions: unanswerable declined, right answers lost."""

    rule: AbstentionRule
    min_support: float
    unanswerable_declined: int
    unanswerable: int
    right_lost: int
    answerable: int

    @property
    def accuracy_cost(self) -> float:
        return self.right_lost / max(1, self.answerable)


@dataclass(frozen=True)
class AbstentionReport:
    questions: int
    before: RuleScore           # the support threshold and the answer-kind check alone
    shipped: RuleScore          # ``AbstentionRule()`` at ``MIN_SCORE``
    chosen_in_sample: RuleScore
    cross_validated: dict       # mean unanswerable declined share and answer-accuracy cost, held out
    cross_validated_checks: dict   # the same with the threshold kept at ``MIN_SCORE``: the checks alone
    each_check: tuple[RuleScore, ...]


def collect(bench: Path = BENCH, backend: str = AUTO, progress: bool = True) -> list[AskedQuestion]:
    """Every dev question asked once (hybrid, k=5), with the chosen sentence's signals."""
    with open_questions_index(bench=bench, backend=backend, progress=progress) as qa:
        questions = load_questions("dev")
        vectors = qa.embedder([q.question for q in questions])
        asked = []
        for question, vector in zip(questions, tqdm(vectors, desc="dev questions", disable=not progress)):
            hits = qa.retriever(question.question, 5, question_vector=vector)
            chosen = qa.extract_answer(question.question, hits, question_vector=vector)
            right = chosen.signals is not None and any(answer_in(chosen.sentence, a) for a in question.answers)
            if chosen.signals is not None:
                asked.append(AskedQuestion(question.qid, question.question, question.answerable, right, chosen.signals))
        return asked


def score(asked: list[AskedQuestion], rule: AbstentionRule, min_support: float) -> RuleScore:
    declined = [declines(q.signals, min_support, rule) for q in asked]
    return RuleScore(rule, min_support, sum(d for d, q in zip(declined, asked) if not q.answerable),
                     sum(not q.answerable for q in asked), sum(d for d, q in zip(declined, asked) if q.right),
                     sum(q.answerable for q in asked))


def choose(asked: list[AskedQuestion], min_support: float | None = None) -> RuleScore:
    """The rule and threshold that decline the most unanswerable questions of ``asked`` for at most
    ``MAX_ANSWERS_LOST`` of its answerable ones (then the fewest lost, the lowest threshold); with
    ``min_support``, the rule alone at that threshold."""
    thresholds = [min_support] if min_support is not None else \
        sorted({round(q.signals.support, 3) for q in asked} | {float("-inf")})
    rules = [AbstentionRule(names, count, kind, money) for names, count, kind, money
             in itertools.product(NAMES_MISSING, (True, False), (True, False), (True, False))]
    trials = [score(asked, rule, threshold) for rule in rules for threshold in thresholds]
    affordable = [t for t in trials if t.accuracy_cost <= MAX_ANSWERS_LOST]
    return max(affordable, key=lambda t: (t.unanswerable_declined, -t.right_lost, -t.min_support))


def cross_validate(asked: list[AskedQuestion], folds: int = FOLDS, shuffles: int = SHUFFLES,
                   min_support: float | None = None) -> dict:
    """Choose on ``folds - 1`` folds, score the one left out; the means over ``shuffles`` shuffles.
    With ``min_support`` the threshold stays there and only the checks are chosen."""
    declined, lost = [], []
    for seed in range(shuffles):
        fold_of = np.random.default_rng(seed).permutation(len(asked)) % folds
        held_declined = held_lost = 0
        for fold in range(folds):
            train = [q for q, f in zip(asked, fold_of) if f != fold]
            held = [q for q, f in zip(asked, fold_of) if f == fold]
            chosen = choose(train, min_support)
            result = score(held, chosen.rule, chosen.min_support)
            held_declined += result.unanswerable_declined
            held_lost += result.right_lost
        declined.append(held_declined)
        lost.append(held_lost)
    unanswerable = sum(not q.answerable for q in asked)
    answerable = sum(q.answerable for q in asked)
    return {"folds": folds, "shuffles": shuffles,
            "unanswerable_declined_share": float(np.mean(declined)) / max(1, unanswerable),
            "unanswerable_declined_range": [int(min(declined)), int(max(declined))],
            "answer_accuracy_cost": float(np.mean(lost)) / max(1, answerable),
            "right_answers_lost_range": [int(min(lost)), int(max(lost))]}


def abstention_report(asked: list[AskedQuestion]) -> AbstentionReport:
    each = tuple(score(asked, AbstentionRule(names, count, kind, money), MIN_SCORE) for names, count, kind, money in
                 ((10**6, False, False, False), (2, False, False, False), (1, False, False, False),
                  (None, True, False, False), (None, False, True, False), (None, False, False, True)))
    return AbstentionReport(len(asked), score(asked, NO_CHECKS, MIN_SCORE), score(asked, AbstentionRule(), MIN_SCORE),
                            choose(asked), cross_validate(asked), cross_validate(asked, min_support=MIN_SCORE), each)


def print_abstention(report: AbstentionReport, path: Path) -> None:
    def line(label: str, s: RuleScore) -> str:
        return (f"{label:44} declined {s.unanswerable_declined:2} of {s.unanswerable} unanswerable, "
                f"lost {s.right_lost} of {s.answerable} answers ({s.accuracy_cost:.1%})")

    print(f"decline rule on questions dev ({report.questions} questions, hybrid, k=5)")
    print(line(f"before: support >= {MIN_SCORE}, answer kind", report.before))
    print(line("shipped: AbstentionRule() at that support", report.shipped))
    labels = ("  names: a number missing", "  names: two missing, or a number", "  names: one missing", "  how many X counts another noun",
              "  who: spaCy calls it something else", "  a cost or price that is no money")
    for label, s in zip(labels, report.each_check):
        print(line(f"{label} (alone)", s))
    chosen = report.chosen_in_sample
    print(line(f"chosen in-sample: {chosen.rule}, support >= {chosen.min_support}", chosen))
    for label, cv in (("checks and threshold", report.cross_validated),
                      (f"checks at support {MIN_SCORE}", report.cross_validated_checks)):
        print(f"cross-validated, {label} chosen on the other folds ({cv['folds']} folds x {cv['shuffles']} shuffles): "
              f"declined {cv['unanswerable_declined_share']:.1%} of unanswerable (range "
              f"{cv['unanswerable_declined_range']}), answer accuracy cost {cv['answer_accuracy_cost']:.1%} "
              f"(answers lost {cv['right_answers_lost_range']})")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(report), indent=2, default=str))
    print(f"report: {path}")
