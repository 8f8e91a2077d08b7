"""Run one set of queries through every retrieval mode and score each with the same qrels."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping, Protocol, Sequence

from tqdm.auto import tqdm

if TYPE_CHECKING:
    from qa.api import QA

from eval.metrics import Qrels, evaluate, latency_percentiles, random_floor, success_curve
from eval.matching import answer_in, same_answer

RankFunction = Callable[[str, str, int], list[str]]


class KnownAnswer(Protocol):
    question: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class ModeResult:
    mode: str
    metrics: dict[str, float]
    latency: dict[str, float]
    success_by_k: list[float]
    seconds: float
    per_query: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class EvalReport:
    """Each mode's scores on one query set; ``floor`` is what a random ranking scores there."""

    name: str
    queries: int
    results: tuple[ModeResult, ...]
    settings: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    floor: dict[str, float] = field(default_factory=dict)


def compare_modes(name: str, rank: RankFunction, queries: Mapping[str, str], qrels: Qrels,
                  modes: Sequence[str], depth: int, candidates: Sequence[str], success_at=(1, 5, 10), recall_at=(),
                  curve_depth: int = 10, settings: dict | None = None, progress: bool = True) -> EvalReport:
    """``rank(query, mode, depth)`` returns ranked item ids; each query is timed on its own.
    ``candidates`` are all the ids a ranking could return, for the random-ranking floor."""
    results = []
    judged = [qid for qid in queries if qid in qrels]
    for mode in modes:
        rankings, timings = {}, []
        started = time.perf_counter()
        for qid in tqdm(judged, desc=f"{name} {mode}", unit=" q", disable=not progress, leave=False):
            clock = time.perf_counter()
            rankings[qid] = rank(queries[qid], mode, depth)
            timings.append(time.perf_counter() - clock)
        summary = evaluate({q: qrels[q] for q in judged}, rankings, success_at, recall_at)
        results.append(ModeResult(
            mode=mode, metrics=summary.means, latency=latency_percentiles(timings),
            success_by_k=success_curve(qrels, rankings, curve_depth), seconds=time.perf_counter() - started,
            per_query=summary.per_query))
    floor = random_floor({q: qrels[q] for q in judged}, candidates, depth, success_at, recall_at)
    return EvalReport(name=name, queries=len(judged), results=tuple(results), settings=settings or {}, floor=floor)


def passage_ranker(qa: "QA") -> RankFunction:
    """Rank passage ids with ``qa``'s retriever, as ``compare_modes`` wants them."""
    def rank(query: str, mode: str, depth: int) -> list[str]:
        rows = [row for row, _ in qa.retriever.rank_rows([query], depth, mode)[0]]
        labels = qa.store.labels(rows)
        return [labels[row][0] for row in rows]

    return rank


def answer_scores(qa: "QA", questions: Sequence[KnownAnswer], unanswerable: Sequence[str] = (), k: int = 5,
                  mode: str | None = None) -> dict[str, float]:
    """How ``qa.ask`` answers, over one pass of the questions, as ``{name: share}``:

    - ``answer accuracy``: the answer sentence holds an accepted answer as whole words (a
      "nothing found" counts as a miss);
    - ``short answer exact``: the short answer equals an accepted answer after ``same_answer``'s
      normalisation; ``... where the sentence holds one`` scores only those sentences;
    - ``unanswerable declined``: questions in ``unanswerable`` answered "nothing found".
    """
    mode_name = mode or qa.retriever.mode
    correct = exact = exact_in_correct = 0
    for question in questions:
        answer = qa.ask(question.question, k=k, mode=mode)
        holds = answer.answered and any(answer_in(answer.answer, a) for a in question.answers)
        is_exact = answer.short is not None and same_answer(answer.short, question.answers)
        correct += holds
        exact += is_exact
        exact_in_correct += holds and is_exact
    scores = {f"answer accuracy ({mode_name}, k={k})": correct / max(1, len(questions)),
              f"short answer exact ({mode_name})": exact / max(1, len(questions)),
              f"short answer exact where the sentence holds one ({mode_name}, {correct})": exact_in_correct / max(1, correct)}
    if unanswerable:
        declined = sum(not qa.ask(question, k=k, mode=mode).answered for question in unanswerable)
        scores[f"unanswerable declined ({mode_name}, {len(unanswerable)})"] = declined / len(unanswerable)
    return scores
