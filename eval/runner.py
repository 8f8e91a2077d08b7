"""Run one set of queries through every retrieval mode and score each with the same qrels."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from tqdm.auto import tqdm

from eval.metrics import Qrels, evaluate, latency_percentiles, success_curve

RankFunction = Callable[[str, str, int], list[str]]


@dataclass(frozen=True)
class ModeResult:
    mode: str
    metrics: dict[str, float]
    latency: dict[str, float]
    recall_curve: list[float]
    seconds: float
    per_query: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class EvalReport:
    name: str
    queries: int
    results: tuple[ModeResult, ...]
    settings: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def best(self, metric: str) -> ModeResult:
        return max(self.results, key=lambda result: result.metrics[metric])


def compare_modes(name: str, rank: RankFunction, queries: Mapping[str, str], qrels: Qrels,
                  modes: Sequence[str], depth: int, success_at=(1, 5, 10), recall_at=(), curve_depth: int = 10,
                  settings: dict | None = None, progress: bool = True) -> EvalReport:
    """``rank(query, mode, depth)`` returns ranked item ids; each query is timed on its own."""
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
            recall_curve=success_curve(qrels, rankings, curve_depth), seconds=time.perf_counter() - started,
            per_query=summary.per_query))
    return EvalReport(name=name, queries=len(judged), results=tuple(results), settings=settings or {})
