"""Known-answer questions over real documents docqa does not control (``eval/data/questions.jsonl``).

The set asks about the two bench corpora in ``../shared/bench``: the 106 English Wikipedia articles
of a dump sample (with the five of the table-markup sample beside them) and 509 18F blog posts with
YAML front matter. Each question names its gold document, its accepted answers and its evidence: a
verbatim piece of the gold document's cleaned text that holds an answer. A passage is relevant when
it comes from the gold document and overlaps the evidence, so judgements do not depend on how the
index chunks, and a year that a long article mentions ten times does not make ten passages relevant.

Questions are split by gold document into a fixed **dev** split (tune on it) and **test** split
(report and gate on it), so no article or post feeds both. Unanswerable questions (plausible, but
answered nowhere in the corpus) have no answers and no gold document; they are split the same way.

>>> questions = load_questions()
>>> len(questions) >= 200, {q.split for q in questions} == set(SPLITS)
(True, True)
>>> answerable = [q for q in questions if q.answerable]
>>> sum(q.paraphrase for q in answerable) / len(answerable) >= 0.4, len(questions) - len(answerable) >= 20
(True, True)
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, TypeVar

from index.backends import AUTO, choose_backend
from index.builder import IndexBuilder
from index.embedder import DEFAULT_MODEL, Embedder, docqa_cache, model_slug
from index.settings import Settings, current_settings
from index.store import IndexStore
from index.stores import open_store
from qa.api import QA
from qa.retriever import MODES
from eval import BENCH
from eval.matching import answer_in, evidence_spans, same_answer
from ingest.chunker import Chunking
from ingest.sentences import split_sentences
from qa.span import SpacyShortAnswerFinder
from eval.runner import EvalReport, answer_scores, compare_modes, passage_ranker

QUESTIONS = Path(__file__).parent / "data" / "questions.jsonl"
SPLITS = ("dev", "test")
KINDS = ("factoid", "date", "number", "person", "place", "why/how", "infobox-only", "front-matter-only")
CORPORA = ("wikitext", "news_frontmatter")
T = TypeVar("T")


@dataclass(frozen=True)
class Question:
    """One known-answer question.

    ``source`` is the gold document as the index names it (a file name, or ``dump#Title`` for a
    page of a dump); ``evidence`` is verbatim text of it that holds an answer. Unanswerable
    questions have neither, and no answers. ``paraphrase`` says the question shares no content word
    (after stemming) with the sentences the evidence lies in; ``tests/eval/test_questions.py``
    checks every flag against the real documents.
    """

    qid: str
    split: str
    question: str
    answers: tuple[str, ...]
    source: str
    evidence: str
    kind: str
    paraphrase: bool

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_records(path: Path, make: Callable[[dict], T], what: str) -> list[T]:
    """One ``make(row)`` per non-blank JSON line of ``path``; a bad line is a ``ValueError`` naming it."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                records.append(make(json.loads(line)))
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: not {what} ({error})") from error
    return records


def _question(row: dict) -> Question:
    question = Question(row["id"], row["split"], row["question"], tuple(row["answers"]), row["source"],
                        row["evidence"], row["kind"], bool(row["paraphrase"]))
    if question.split not in SPLITS or question.kind not in KINDS:
        raise ValueError(f"unknown split {question.split!r} or kind {question.kind!r}")
    return question


def load_questions(split: str | None = None, path: Path = QUESTIONS) -> list[Question]:
    """The questions of ``split`` (``dev`` or ``test``; ``None`` for both), in file order."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    return [q for q in load_records(path, _question, "a question") if split is None or q.split == split]


def question_qrels(questions: list[Question], store: IndexStore) -> dict[str, dict[str, int]]:
    """Each answerable question's relevant passages: those of its gold document overlapping the evidence."""
    documents = {document.source: document for document in store.documents()}
    qrels = {}
    for question in (q for q in questions if q.answerable):
        document = documents.get(question.source)
        if document is None:
            raise ValueError(f"{question.qid}: {store.location} holds no document {question.source!r}")
        spans = evidence_spans(document.text, question.evidence)
        if not spans:
            raise ValueError(f"{question.qid}: the evidence {question.evidence[:60]!r} is not in {question.source!r}")
        qrels[question.qid] = {passage.passage_id: 1 for passage, _ in store.passages_of(document.doc_id)
                               if any(passage.start < end and start < passage.end for start, end in spans)}
    return qrels


def short_answers_on_evidence(questions: list[Question], store: IndexStore, find=None) -> float:
    """The share of answerable ``questions`` whose short answer, found in the sentence that holds
    their evidence and an accepted answer, equals an accepted answer (``same_answer``): the span
    finder scored apart from the choice of sentence."""
    documents = {document.source: document for document in store.documents()}
    find, exact, answerable = find or SpacyShortAnswerFinder(), 0, [q for q in questions if q.answerable]
    for question in answerable:
        document = documents[question.source]
        start, end = evidence_spans(document.text, question.evidence)[0]
        sentences = [document.text[s.start:s.end] for s in split_sentences(document.text, max(0, start - 2000),
                                                                              min(len(document.text), end + 2000))
                     if s.start < end and start < s.end]
        sentence = next((s for s in sentences if any(answer_in(s, a) for a in question.answers)), " ".join(sentences))
        short = find(question.question, sentence, document.title)
        exact += short is not None and same_answer(short.text, question.answers)
    return exact / max(1, len(answerable))


def default_questions_index_dir(model: str = DEFAULT_MODEL, backend: str = AUTO, chunking: Chunking = Chunking()) -> Path:
    """``docqa_cache()/questions/<model>-<backend>``: one index per backend, as for BEIR, and per
    passage size where it is not the default (``...-128x0``: 128 tokens, no overlap).

    >>> default_questions_index_dir(chunking=Chunking(128, 0)).name.endswith("-128x0")
    True
    """
    size = "" if chunking == Chunking() else f"-{chunking.max_tokens}x{chunking.overlap_sentences}"
    return docqa_cache() / "questions" / f"{model_slug(model)}-{choose_backend(backend)}{size}"


def open_questions_index(index_dir: Path | None = None, bench: Path = BENCH, backend: str = AUTO,
                         progress: bool = True, embedder: Embedder | None = None,
                         settings: Settings | None = None) -> QA:
    """A ``QA`` over the two bench corpora. ``index_dir`` names an index already built from them,
    opened as it is; without it the eval's own cached index is built, or updated (a no-op when
    nothing changed), first, with ``settings``' chunking (``python -m eval questions --max-tokens
    --overlap``). ``embedder`` reuses a loaded model instead of loading one for ``backend``."""
    if index_dir is not None:
        return QA(open_store(index_dir), embedder) if embedder else QA.open(index_dir, backend=backend)
    folders = [bench / corpus for corpus in CORPORA]
    missing = [str(folder) for folder in folders if not folder.exists()]
    if missing:
        raise FileNotFoundError(f"the question set reads the bench corpora, missing: {', '.join(missing)}")
    settings = settings or current_settings()
    embedder = embedder or Embedder(backend=backend)
    index_dir = default_questions_index_dir(embedder.model_name, embedder.backend, settings.chunking)
    IndexBuilder(index_dir, settings, progress=progress, embedder=embedder)(folders, prune=True, replace_copies=True)
    return QA(IndexStore.open(index_dir), embedder)


def run_question_eval(split: str = "test", index_dir: Path | None = None, bench: Path = BENCH, modes=MODES,
                      progress: bool = True, backend: str = AUTO, answer_modes=None,
                      embedder: Embedder | None = None, settings: Settings | None = None) -> EvalReport:
    """Score ``modes`` on one split: Success@1/5/10, MRR@10 and nDCG@10 over its answerable
    questions, next to the random-ranking floor; and for each of ``answer_modes`` (default:
    ``modes``) how ``ask`` answers (``eval.runner.answer_scores``): answer accuracy, short-answer
    exact match, and the share of the split's unanswerable questions declined."""
    with open_questions_index(index_dir, bench, backend, progress, embedder, settings) as qa:
        return _question_report(qa, split, modes, progress, answer_modes)


def _question_report(qa: QA, split: str, modes, progress: bool, answer_modes) -> EvalReport:
    questions = load_questions(split)
    answerable = [q for q in questions if q.answerable]
    settings = {"split": split, "index": qa.store.location, "model": qa.store.manifest.model,
                "backend": qa.store.manifest.embedding.backend, "query_backend": qa.embedder.backend,
                "chunking": asdict(qa.store.manifest.chunking), "passages": qa.store.count_passages(),
                "fusion": {"dense_weight": qa.retriever.weights[0], "bm25_weight": qa.retriever.weights[1],
                           "sentence_weight": qa.retriever.sentence_weight},
                "unanswerable questions (scored by answers only)": len(questions) - len(answerable)}
    report = compare_modes(f"questions {split}", passage_ranker(qa), {q.qid: q.question for q in answerable},
                           question_qrels(answerable, qa.store), modes, depth=10,
                           candidates=[passage_id for passage_id, _ in qa.store.row_labels()],
                           settings=settings, progress=progress)
    extra = {}
    paraphrases = {q.qid for q in answerable if q.paraphrase}
    for result in report.results:
        for label, chosen in (("paraphrases", paraphrases), ("other questions", {q.qid for q in answerable} - paraphrases)):
            hits = [result.per_query[qid]["Success@5"] for qid in chosen]
            extra[f"{result.mode} Success@5, {label} ({len(hits)})"] = sum(hits) / max(1, len(hits))
    for mode in modes if answer_modes is None else answer_modes:
        extra.update(answer_scores(qa, answerable, [q.question for q in questions if not q.answerable], mode=mode))
    extra["short answer exact in the evidence sentence"] = short_answers_on_evidence(answerable, qa.store)
    return replace(report, extra=extra)
