"""Top passages for a question by dense, BM25 or hybrid (reciprocal rank fusion) retrieval."""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from index.contracts import SearchMode
from index.embedder import Embedder
from index.fusion import BM25_WEIGHT, DENSE_WEIGHT, RERANK_DEPTH, SENTENCE_WEIGHT, rrf_score
from index.scope import Scope
from index.store import IndexStore
from qa.citations import Citer
from qa.types import Hit

MODES = tuple(mode.value for mode in SearchMode)      # ("hybrid", "dense", "bm25")
DEFAULT_MODE = SearchMode.HYBRID.value


# Longer than any real question; a 5 MB "question" once held the UI for 4 minutes.
MAX_QUESTION_CHARS = 2000


class QuestionError(ValueError):
    """The question cannot be answered as asked (empty, too long, not text, say)."""


def check_question(question: object) -> str:
    """The question, stripped, or a ``QuestionError`` that says what is wrong with it."""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be a string (str), not {type(question).__name__}")
    if not question.strip():
        raise QuestionError("the question is empty; type a question about your documents")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}")
    check_is_text(question, "the question")
    return question.strip()


def check_is_text(text: str, what: str) -> None:
    """A ``QuestionError`` naming ``what`` where ``text`` holds a lone surrogate (invalid UTF-16),
    which no tokenizer or JSON encoder downstream accepts."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise QuestionError(f"{what} holds a lone surrogate (invalid UTF-16), not text") from None


def check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise QuestionError(f"k must be a positive int (the number of passages), not {k!r}"[:120])
    return k


class Retriever:
    """Ranked, cited passages from an ``IndexStore``.

    >>> from qa.api import default_qa
    >>> retriever = Retriever(default_qa().store, default_qa().embedder)
    >>> [hit.citation.source for hit in retriever("When was SenseTime founded?", k=3)][0]
    '002_73259c55204946b0.txt'
    >>> retriever("When was SenseTime founded?", k=3, mode="bm25")[0].citation.section
    'Infobox'

    Parameters:
        store: the index to search.
        embedder: encodes questions; the model must be the one the index was built with.
        mode: ``hybrid`` (default), ``dense`` or ``bm25``.
        dense_weight, bm25_weight: the weights of the two rankings in reciprocal rank fusion.
        sentence_weight: in hybrid mode, the weight of the best-sentence ranking that re-fuses the
            top ``index.fusion.RERANK_DEPTH`` rows of a question (``asks_a_question``; 0: no second step).
    """

    def __init__(self, store: IndexStore, embedder: Embedder, mode: str = DEFAULT_MODE,
                 dense_weight: float = DENSE_WEIGHT, bm25_weight: float = BM25_WEIGHT,
                 sentence_weight: float = SENTENCE_WEIGHT):
        check_mode(mode)
        self.store = store
        self.embedder = embedder
        self.mode = mode
        self.weights = (dense_weight, bm25_weight)
        self.sentence_weight = sentence_weight
        self.cite = Citer(store)   # each citation's file, lines and text

    def __call__(self, question: str, k: int = 5, mode: str | None = None,
                 question_vector: np.ndarray | None = None, scope: Scope | None = None) -> list[Hit]:
        vectors = None if question_vector is None else question_vector[None, :]
        return self.retrieve_many([question], k, mode, vectors, scope)[0]

    def retrieve_many(self, questions: Sequence[str], k: int = 5, mode: str | None = None,
                      question_vectors: np.ndarray | None = None, scope: Scope | None = None) -> list[list[Hit]]:
        """Hits for each question; ``question_vectors`` are their embeddings where the caller has them;
        with a ``scope``, from the documents it allows only."""
        rankings = self.rank_rows(questions, k, mode, question_vectors, scope)
        rows = sorted({row for ranking in rankings for row, _ in ranking})
        stored = self.store.passages(rows)
        return [[Hit(rank=rank, score=score, passage=stored[row].passage, citation=self.cite.passage(stored[row]))
                 for rank, (row, score) in enumerate(ranking, start=1)]
                for ranking in rankings]

    def rank_rows(self, questions: Sequence[str], k: int, mode: str | None = None,
                  question_vectors: np.ndarray | None = None, scope: Scope | None = None) -> list[list[tuple[int, float]]]:
        """The top ``k`` ``(row, score)`` of each question, rows as the store numbers them."""
        mode = check_mode(mode or self.mode)
        questions = [check_question(question) for question in questions]
        check_k(k)
        if mode != "bm25" and question_vectors is None:
            question_vectors = self.embedder(list(questions))
        if mode != "hybrid" or self.sentence_weight <= 0:
            return self.store.search(questions, question_vectors, k, mode, self.weights, scope=scope)
        rankings = self.store.search(questions, question_vectors, max(k, RERANK_DEPTH), mode, self.weights, scope=scope)
        # A question asks for a fact one sentence holds; a statement (a claim to check, keywords) is
        # matched by the passage as a whole, so it keeps hybrid's order (docs/benchmarks.md, #20).
        return [self._by_best_sentence(ranking, vector)[:k] if asks_a_question(question) else ranking[:k]
                for question, ranking, vector in zip(questions, rankings, question_vectors)]

    def _by_best_sentence(self, ranking: list[tuple[int, float]], question_vector: np.ndarray) -> list[tuple[int, float]]:
        """``ranking``'s top ``RERANK_DEPTH`` re-fused with their order by best sentence; the rest follow,
        their scores scaled below the last re-fused one so scores still fall with rank."""
        head, tail = ranking[:RERANK_DEPTH], ranking[RERANK_DEPTH:]
        # One read of the head's passages: an engine store fetches their sentence vectors with them.
        stored = self.store.passages([row for row, _ in head])
        # Cosines rounded to hundredths: near-ties (a sentence that overlapping passages share, or the
        # thousandths by which backends differ) keep hybrid's order, so every store ranks alike.
        best = {}
        for row, _ in head:
            vectors = self.store.sentence_vectors(stored[row].passage.passage_id)
            best[row] = round(float((vectors.astype(np.float32) @ question_vector).max()), 2) \
                if vectors is not None and len(vectors) else -1.0
        by_sentence = {row: rank for rank, row in enumerate(sorted(best, key=lambda row: -best[row]), start=1)}
        fused = [(row, rrf_score(position, 1.0) + rrf_score(by_sentence[row], self.sentence_weight), position)
                 for position, (row, _) in enumerate(head, start=1)]
        fused = [(row, score) for row, score, _ in sorted(fused, key=lambda item: (-item[1], item[2]))]
        if tail:
            scale = fused[-1][1] / tail[0][1] * 0.999 if tail[0][1] > 0 else 0.0
            fused += [(row, score * scale) for row, score in tail]
        return fused


_QUESTION_OPENING = re.compile(r"^\W*(?:who|whom|whose|what|when|where|which|why|how|is|are|was|were|do|does|did|can|"
                               r"could|should|would|will|has|have|had)\b", re.IGNORECASE)


def asks_a_question(query: str) -> bool:
    """Whether ``query`` is a question (a question mark, or a wh-word or auxiliary first), which the
    best-sentence step ranks, rather than a statement: on SciFact train, whose queries are claims
    judged against whole abstracts, the step cost nDCG@10 at every weight up to 1.0 (0.717 without,
    0.714 at 0.5), while on the question set's dev split it lifts 0.664 to 0.747.

    >>> asks_a_question("When was SenseTime founded?"), asks_a_question("Vitamin D lowers the risk of falls.")
    (True, False)
    """
    return query.rstrip().endswith("?") or bool(_QUESTION_OPENING.match(query))


def check_mode(mode: str) -> SearchMode:
    """The mode named by ``mode`` (a ``SearchMode`` or its value), or a ``QuestionError``."""
    if not isinstance(mode, str) or mode not in MODES:
        raise QuestionError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
    return SearchMode(mode)


