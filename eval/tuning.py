"""``python -m eval tune``: choose the fusion and answer-scoring weights on the dev splits only.

The fusion weight is chosen on two dev sets at once: the question set's **dev** split (passages of
the bench wikitext and news corpora) and SciFact **train** (809 queries; its test split is only
reported). The answer-scoring weights are chosen on the question set's dev split. The test splits
never take part: they are scored afterwards, once, with ``python -m eval questions --split test``
and ``python -m eval beir ../shared/bench/scifact``.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm

from index.backends import AUTO
from qa.answer import OVERLAP_WEIGHT, RANK_PENALTY, AnswerWeights
from qa.retriever import BM25_WEIGHT, DENSE_WEIGHT, Retriever
from eval import BENCH
from eval.beir import document_ranker, load_beir, open_beir_index
from eval.matching import answer_in
from eval.metrics import evaluate
from eval.questions import load_questions, open_questions_index, question_qrels
from eval.runner import passage_ranker

# Only the ratio of the two weights changes a fused ranking, so BM25's stays 1.
DENSE_WEIGHTS = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 3.0)
OVERLAP_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
RANK_PENALTIES = (0.0, 0.005, 0.01, 0.02, 0.04, 0.08)


@dataclass(frozen=True)
class FusionTrial:
    dense_weight: float
    questions_dev_ndcg10: float
    scifact_train_ndcg10: float

    @property
    def objective(self) -> float:
        return (self.questions_dev_ndcg10 + self.scifact_train_ndcg10) / 2


@dataclass(frozen=True)
class AnswerTrial:
    overlap: float
    rank_penalty: float
    questions_dev_accuracy: float


@dataclass(frozen=True)
class Tuning:
    fusion: tuple[FusionTrial, ...]
    answer: tuple[AnswerTrial, ...]
    best_fusion: FusionTrial
    best_answer: AnswerTrial
    settings: dict


def _best(trials, score, current):
    """The best trial; among equals, the one with the current setting, else the first."""
    top = max(map(score, trials))
    tied = [trial for trial in trials if score(trial) == top]
    return next((trial for trial in tied if current(trial)), tied[0])


def tune(bench: Path = BENCH, backend: str = AUTO, progress: bool = True) -> Tuning:
    qa = open_questions_index(bench=bench, backend=backend, progress=progress)
    dev = [q for q in load_questions("dev") if q.answerable]
    qrels = question_qrels(dev, qa.store)
    rank = passage_ranker(qa)

    scifact = load_beir(bench / "scifact", "train")
    store, embedder = open_beir_index(scifact, progress=progress, embedder=qa.embedder)
    scifact_retriever = Retriever(store, embedder)
    scifact_rank = document_ranker(store, scifact_retriever)

    fusion = []
    for weight in tqdm(DENSE_WEIGHTS, desc="fusion weights", disable=not progress):
        qa.retriever.weights = scifact_retriever.weights = (weight, BM25_WEIGHT)
        rankings = {q.qid: rank(q.question, "hybrid", 10) for q in dev}
        scifact_rankings = {qid: scifact_rank(text, "hybrid", 100) for qid, text in scifact.queries.items()}
        fusion.append(FusionTrial(weight, evaluate(qrels, rankings).means["nDCG@10"],
                                  evaluate(scifact.qrels, scifact_rankings, success_at=()).means["nDCG@10"]))
    best_fusion = _best(fusion, lambda t: t.objective, lambda t: t.dense_weight == DENSE_WEIGHT)

    qa.retriever.weights = (best_fusion.dense_weight, BM25_WEIGHT)
    vectors = qa.embedder([q.question for q in dev])
    candidates = [qa.extract_answer.candidates(q.question, qa.retriever(q.question, 5, question_vector=vector), vector)
                  for q, vector in zip(dev, tqdm(vectors, desc="answer candidates", disable=not progress))]
    answer = []
    for overlap, penalty in itertools.product(OVERLAP_WEIGHTS, RANK_PENALTIES):
        weights = AnswerWeights(overlap=overlap, rank_penalty=penalty)
        correct = sum(bool(found) and any(answer_in(max(found, key=weights.score).text, a) for a in q.answers)
                      for q, found in zip(dev, candidates))
        answer.append(AnswerTrial(overlap, penalty, correct / len(dev)))
    best_answer = _best(answer, lambda t: t.questions_dev_accuracy,
                        lambda t: (t.overlap, t.rank_penalty) == (OVERLAP_WEIGHT, RANK_PENALTY))
    settings = {"questions_index": str(qa.store.root), "questions_dev": len(dev), "scifact_train": len(scifact.queries),
                "backend": qa.embedder.backend, "bm25_weight": BM25_WEIGHT,
                "current": {"dense_weight": DENSE_WEIGHT, "overlap": OVERLAP_WEIGHT, "rank_penalty": RANK_PENALTY}}
    return Tuning(tuple(fusion), tuple(answer), best_fusion, best_answer, settings)


def print_tuning(tuning: Tuning, path: Path) -> None:
    print(f"fusion (BM25 weight {BM25_WEIGHT}): nDCG@10 on the dev splits")
    print("dense weight  questions dev  SciFact train  mean")
    for trial in tuning.fusion:
        mark = "  <- chosen" if trial == tuning.best_fusion else ""
        print(f"{trial.dense_weight:12.2f}  {trial.questions_dev_ndcg10:13.3f}  {trial.scifact_train_ndcg10:13.3f}"
              f"  {trial.objective:.3f}{mark}")
    print(f"\nanswer weights: answer accuracy on questions dev (hybrid, dense weight {tuning.best_fusion.dense_weight})")
    print("overlap \\ rank penalty  " + "  ".join(f"{p:6.3f}" for p in RANK_PENALTIES))
    by_cell = {(t.overlap, t.rank_penalty): t.questions_dev_accuracy for t in tuning.answer}
    for overlap in OVERLAP_WEIGHTS:
        print(f"{overlap:22.2f}  " + "  ".join(f"{by_cell[overlap, p]:6.3f}" for p in RANK_PENALTIES))
    best = tuning.best_answer
    print(f"chosen: overlap {best.overlap}, rank penalty {best.rank_penalty} ({best.questions_dev_accuracy:.3f})")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(tuning), indent=2))
    print(f"report: {path}")
