"""Standard IR metrics computed by pytrec_eval (the trec_eval C code), not re-implemented here."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

try:
    import pytrec_eval
except ImportError as error:  # an optional extra, like matplotlib for the plot
    raise ImportError("the eval suite needs pytrec_eval: pip install -e '.[eval]'") from error

Qrels = Mapping[str, Mapping[str, int]]
Rankings = Mapping[str, Sequence[str]]
_EMPTY_RUN = {"__no_result__": 0.0}


@dataclass(frozen=True)
class MetricSummary:
    """Means over all judged queries; ``per_query`` keeps each query's values."""

    means: dict[str, float]
    per_query: dict[str, dict[str, float]]


def _run(rankings: Rankings, depth: int) -> dict[str, dict[str, float]]:
    # Scores are made strictly decreasing by rank: trec_eval re-sorts by score and would
    # otherwise break ties by document id, silently changing the order we produced.
    run = {}
    for qid, ranked in rankings.items():
        ranked = list(dict.fromkeys(ranked))[:depth]
        run[qid] = {doc: float(depth - rank) for rank, doc in enumerate(ranked)} or dict(_EMPTY_RUN)
    return run


def evaluate(qrels: Qrels, rankings: Rankings, success_at: Sequence[int] = (1, 5, 10),
             recall_at: Sequence[int] = (), cutoff: int = 10) -> MetricSummary:
    """``Success@k`` (a relevant item in the top k), ``MRR@cutoff``, ``nDCG@cutoff`` and, for
    BEIR, trec ``Recall@k`` (the share of a query's relevant items found in the top k).

    Every query in ``qrels`` counts; a query with no results scores zero rather than vanishing.
    """
    judged = {qid: dict(rels) for qid, rels in qrels.items() if any(v > 0 for v in rels.values())}
    full = {qid: rankings.get(qid, []) for qid in judged}
    measures = {f"ndcg_cut.{cutoff}"}
    if success_at:
        measures.add("success." + ",".join(map(str, success_at)))
    if recall_at:
        measures.add("recall." + ",".join(map(str, recall_at)))
    per_query = pytrec_eval.RelevanceEvaluator(judged, measures).evaluate(
        _run(full, max([cutoff, *success_at, *recall_at])))
    mrr = pytrec_eval.RelevanceEvaluator(judged, {"recip_rank"}).evaluate(_run(full, cutoff))
    names = {f"ndcg_cut_{cutoff}": f"nDCG@{cutoff}"}
    names.update({f"success_{k}": f"Success@{k}" for k in success_at})
    names.update({f"recall_{k}": f"Recall@{k}" for k in recall_at})
    table = {}
    for qid in judged:
        values = {names[key]: value for key, value in per_query[qid].items() if key in names}
        values[f"MRR@{cutoff}"] = mrr[qid]["recip_rank"]
        table[qid] = values
    keys = list(next(iter(table.values())).keys()) if table else []
    means = {key: float(np.mean([row[key] for row in table.values()])) for key in keys}
    return MetricSummary(means=means, per_query=table)


def random_floor(qrels: Qrels, candidates: Sequence[str], depth: int, success_at: Sequence[int] = (1, 5, 10),
                 recall_at: Sequence[int] = (), rounds: int = 20, seed: int = 0) -> dict[str, float]:
    """What a ranking drawn at random from ``candidates`` scores: the mean of ``rounds`` such
    rankings, each scored by ``evaluate``. Shown next to every table, so a score can be read
    against chance (24 bundled passages make Success@5 about 0.28 by luck alone).

    >>> floor = random_floor({"q": {"a": 1}}, ["a", "b", "c", "d"], depth=2, success_at=(1, 2))
    >>> round(floor["Success@1"], 1), floor["Success@2"] > floor["Success@1"]
    (0.2, True)
    """
    pool = np.asarray(list(dict.fromkeys(candidates)), dtype=object)
    depth = min(depth, len(pool))
    rng = np.random.default_rng(seed)
    totals: dict[str, float] = {}
    for _ in range(rounds):
        rankings = {qid: list(pool[rng.choice(len(pool), depth, replace=False)]) for qid in qrels}
        for key, value in evaluate(qrels, rankings, success_at, recall_at).means.items():
            totals[key] = totals.get(key, 0.0) + value / rounds
    return totals


def success_curve(qrels: Qrels, rankings: Rankings, depth: int) -> list[float]:
    """Share of queries with a relevant item within the top k, for k = 1..depth."""
    judged = [qid for qid, rels in qrels.items() if any(v > 0 for v in rels.values())]
    first_hits = []
    for qid in judged:
        ranked = list(dict.fromkeys(rankings.get(qid, [])))[:depth]
        first_hits.append(next((rank for rank, doc in enumerate(ranked, 1) if qrels[qid].get(doc, 0) > 0), None))
    return [sum(1 for hit in first_hits if hit is not None and hit <= k) / max(1, len(judged))
            for k in range(1, depth + 1)]


def latency_percentiles(seconds: Sequence[float]) -> dict[str, float]:
    milliseconds = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(milliseconds, 50)), "p95_ms": float(np.percentile(milliseconds, 95))}


def latency_of(items, call) -> dict[str, float]:
    """p50/p95 of ``call(item)`` timed one item at a time."""
    timings = []
    for item in items:
        started = time.perf_counter()
        call(item)
        timings.append(time.perf_counter() - started)
    return latency_percentiles(timings)
