"""The hand-written known-answer questions over the bundled corpus (``eval/data/seeds.jsonl``)."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from index.backends import AUTO
from index.store import IndexStore
from qa.api import QA
from qa.retriever import MODES
from eval.runner import EvalReport, compare_modes

SEED_QUESTIONS = Path(__file__).parent / "data" / "seeds.jsonl"
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


@dataclass(frozen=True)
class SeedQuestion:
    qid: str
    question: str
    answers: tuple[str, ...]
    source: str
    kind: str


def load_seed_questions(path: Path = SEED_QUESTIONS) -> list[SeedQuestion]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(SeedQuestion(row["id"], row["question"], tuple(row["answers"]), row["source"], row["kind"]))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a seed question ({error})") from error
    return questions


def normalize(text: str) -> str:
    return " ".join(text.translate(_QUOTES).lower().split())


def seed_qrels(questions: list[SeedQuestion], store: IndexStore) -> dict[str, dict[str, int]]:
    """A passage is relevant when it comes from the gold file and contains an accepted answer."""
    passages_by_source: dict[str, list[tuple[str, str]]] = {}
    for document in store.documents():
        passages_by_source[document.source] = [(p.passage_id, normalize(p.text)) for p, _ in store.passages_of(document.doc_id)]
    qrels = {}
    for question in questions:
        answers = [normalize(a) for a in question.answers]
        relevant = {pid: 1 for pid, text in passages_by_source.get(question.source, []) if any(a in text for a in answers)}
        if not relevant:
            raise ValueError(f"{question.qid}: no passage of {question.source} contains any of {question.answers}")
        qrels[question.qid] = relevant
    return qrels


def run_seed_eval(index_dir: Path | None = None, modes=MODES, progress: bool = True, backend: str = AUTO) -> EvalReport:
    qa = QA.open(index_dir, backend=backend) if index_dir else QA.default(progress=progress, backend=backend)
    questions = load_seed_questions()
    labels = [passage_id for passage_id, _ in qa.store.row_labels()]

    def rank(query: str, mode: str, depth: int) -> list[str]:
        return [labels[row] for row, _ in qa.retriever.rank_rows([query], depth, mode)[0]]

    settings = {"index": str(qa.store.root), "model": qa.store.manifest.model,
                "backend": qa.store.manifest.embedding.get("backend"), "query_backend": qa.embedder.backend,
                "chunking": qa.store.manifest.chunking, "passages": qa.store.count_passages()}
    report = compare_modes("seed questions", rank, {q.qid: q.question for q in questions},
                           seed_qrels(questions, qa.store), modes, depth=10, settings=settings, progress=progress)
    return replace(report, extra={f"answer accuracy ({qa.retriever.mode}, k=5)": answer_accuracy(qa, questions)})


def answer_accuracy(qa: QA, questions: list[SeedQuestion], k: int = 5) -> float:
    """Share of questions whose extracted answer sentence contains an accepted answer."""
    correct = 0
    for question in questions:
        sentence = normalize(qa.ask(question.question, k=k).answer)
        correct += any(normalize(answer) in sentence for answer in question.answers)
    return correct / len(questions)
