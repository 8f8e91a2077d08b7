"""The hand-written known-answer questions over the bundled corpus (``eval/data/seeds.jsonl``).

Twenty-four passages make this a smoke set: a random ranking already finds a relevant passage in
the top 5 for about a third of the questions (the table prints that floor). The tuned and gated
numbers come from the larger split set in ``eval/questions.py``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

from index.backends import AUTO
from index.store import IndexStore
from qa.api import QA
from qa.retriever import MODES
from eval.matching import answer_in
from eval.questions import load_records
from eval.runner import EvalReport, answer_scores, compare_modes, passage_ranker

SEED_QUESTIONS = Path(__file__).parent / "data" / "seeds.jsonl"


@dataclass(frozen=True)
class SeedQuestion:
    qid: str
    question: str
    answers: tuple[str, ...]
    source: str
    kind: str


def load_seed_questions(path: Path = SEED_QUESTIONS) -> list[SeedQuestion]:
    return load_records(path, lambda row: SeedQuestion(row["id"], row["question"], tuple(row["answers"]), row["source"],
                                                       row["kind"]), "a seed question")


def seed_qrels(questions: list[SeedQuestion], store: IndexStore) -> dict[str, dict[str, int]]:
    """A passage is relevant when it comes from the gold file and holds an accepted answer as whole words."""
    passages_by_source: dict[str, list[tuple[str, str]]] = {}
    for document in store.documents():
        passages_by_source[document.source] = [(p.passage_id, p.text) for p, _ in store.passages_of(document.doc_id)]
    qrels = {}
    for question in questions:
        relevant = {pid: 1 for pid, text in passages_by_source.get(question.source, [])
                    if any(answer_in(text, answer) for answer in question.answers)}
        if not relevant:
            raise ValueError(f"{question.qid}: no passage of {question.source} contains any of {question.answers}")
        qrels[question.qid] = relevant
    return qrels


def run_seed_eval(index_dir: Path | None = None, modes=MODES, progress: bool = True, backend: str = AUTO) -> EvalReport:
    """Score ``modes`` on the seed questions; ``index_dir`` is an index of the bundled corpus
    (default: the default index, built or updated first)."""
    with QA.open(index_dir, backend=backend) if index_dir else QA.default(progress=progress, backend=backend) as qa:
        return _seed_report(qa, modes, progress)


def _seed_report(qa: QA, modes, progress: bool) -> EvalReport:
    questions = load_seed_questions()
    candidates = [passage_id for passage_id, _ in qa.store.row_labels()]
    settings = {"index": qa.store.location, "model": qa.store.manifest.model,
                "backend": qa.store.manifest.embedding.backend, "query_backend": qa.embedder.backend,
                "chunking": asdict(qa.store.manifest.chunking), "passages": qa.store.count_passages()}
    report = compare_modes("seed questions", passage_ranker(qa), {q.qid: q.question for q in questions},
                           seed_qrels(questions, qa.store), modes, depth=10, candidates=candidates,
                           settings=settings, progress=progress)
    return replace(report, extra=answer_scores(qa, questions))
