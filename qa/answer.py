"""Pick the sentence of the top passages that best answers the question, and the short answer in it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from index.embedder import Embedder
from ingest.sentences import split_sentences
from ingest.urls import safe_url
from qa.citations import without_lines
from qa.span import TYPED_KINDS, ShortAnswerFinder, ShortSpan, SpacyShortAnswerFinder, answer_kind, answers_the_kind
from qa.types import Citation, Hit

_WORD = re.compile(r"\w+")
_STOP = set("a an and are as at be by did do does for from how in is it its of on or the to was were what "
            "when where which who whom why with".split())
SENTENCES_FROM_TOP = 5
# Chosen on the question set's dev split by `python -m eval tune` (the test split and the seed questions
# took no part): docs/benchmarks.md, "Answers".
RANK_PENALTY = 0.04
OVERLAP_WEIGHT = 0.5
KIND_WEIGHT = 0.3
# Declining, chosen on the question set's dev split (19 unanswerable questions there): a date, number,
# person or place question is declined when its best sentence holds no answer of that kind (dev: 1 of
# 19 unanswerable declined, no answer lost); otherwise the best sentence's support (its score plus
# FOCUS_WEIGHT times its share of the question's words beyond the document's title) must reach
# MIN_SCORE. `python -m eval tune` sets it: the most dev unanswerable questions declined for at most
# 2% of dev answer accuracy, here 3 of 19 for none (with the sentence step in retrieval). An earlier
# 0.87 declined 4 of 19 for 2 of 98 answers on dev but cost 5 of 140 on test; the other signals tried
# on dev (dense and BM25 agreeing on the passage, the question's words in the passage or the top five)
# separated no better.
FOCUS_WEIGHT = 0.25
MIN_SCORE = 0.713
NO_ANSWER = "Not found in these documents."


@dataclass(frozen=True)
class SentenceCandidate:
    """One sentence of a top hit, with the signals the answer score weighs."""

    hit: Hit
    start: int           # offsets into the hit's passage text
    end: int
    text: str
    similarity: float    # cosine between the question and the sentence's stored vector (pooled in its
                         # passage), or "title: sentence" embedded where the index stores none
    overlap: float       # share of the question's content words (5-letter prefixes) the sentence has
    short: ShortSpan | None   # for a date, number, person or place question, the short answer in it of
                              # that kind (None where it has none); None for other questions
    focus: float = 1.0   # share of the question's content words not in the document's title that the
                         # sentence holds: what the question asks about the document, beyond naming it


@dataclass(frozen=True)
class AnswerWeights:
    """How much word overlap counts, how much holding the kind of answer asked for counts, how much
    each rank of the sentence's passage costs, and the score below which nothing answers."""

    overlap: float = OVERLAP_WEIGHT
    rank_penalty: float = RANK_PENALTY
    kind: float = KIND_WEIGHT
    min_score: float = MIN_SCORE
    focus: float = FOCUS_WEIGHT

    def score(self, candidate: SentenceCandidate) -> float:
        return (candidate.similarity + self.overlap * candidate.overlap + self.kind * answers_the_kind(candidate.short)
                - self.rank_penalty * (candidate.hit.rank - 1))

    def support(self, candidate: SentenceCandidate) -> float:
        """How well the evidence supports answering from ``candidate``; below ``min_score``, decline."""
        return self.score(candidate) + self.focus * candidate.focus

    def supports(self, question: str, candidate: SentenceCandidate) -> bool:
        """Whether to answer from ``candidate``: a date, number, person or place question needs an
        answer of that kind in it, and every question a support of at least ``min_score``."""
        if answer_kind(question) in TYPED_KINDS and not answers_the_kind(candidate.short):
            return False
        return self.support(candidate) >= self.min_score


@dataclass(frozen=True)
class ChosenAnswer:
    """The best sentence of the top hits and the short answer inside it, each with its citation
    (char spans into the document's cleaned text). ``answered`` is False when even the best
    sentence does not support an answer (``AnswerWeights.supports``); the sentence is then only
    the closest one."""

    sentence: str
    citation: Citation | None
    short: str | None
    short_citation: Citation | None
    score: float
    answered: bool


class AnswerExtractor:
    """Score every sentence of the top hits by meaning (cosine to the question), word overlap,
    the kind of answer the question asks for, and the rank of its passage; return the best one
    and the short answer inside it (``qa.span``).

    >>> from qa.api import default_qa
    >>> qa = default_qa()
    >>> question = "When was SenseTime founded?"
    >>> extractor = AnswerExtractor(qa.embedder, qa.store.sentence_vectors)
    >>> chosen = extractor(question, qa.retrieve(question, k=5))
    >>> chosen.short, chosen.citation.source, chosen.answered
    ('October 2014', '002_73259c55204946b0.txt', True)

    Parameters:
        embedder: encodes the question, and the sentences of passages that have no stored vectors.
        sentence_vectors: a passage id's sentence vectors as the index stores them
            (``IndexStore.sentence_vectors``), or None; with them, choosing is a dot product.
        weights: the answer-scoring weights (tuned on the dev split: ``python -m eval tune``).
    """

    def __init__(self, embedder: Embedder, sentence_vectors: Callable[[str], np.ndarray | None] = lambda pid: None,
                 weights: AnswerWeights = AnswerWeights()):
        self.embedder = embedder
        self.sentence_vectors = sentence_vectors
        self.weights = weights
        # The regex rules are cheap enough for every sentence scored; spaCy parses the finalist only.
        self.find_short = ShortAnswerFinder()
        self.find_final_short = SpacyShortAnswerFinder()

    def __call__(self, question: str, hits: Sequence[Hit], reference_urls=lambda doc_id, start, end: (),
                 question_vector: np.ndarray | None = None, cite=without_lines) -> ChosenAnswer:
        """``cite(citation, start, end, text, url)``: a hit's citation narrowed to a span of its
        document (``qa.citations.Citer.span``, which finds the span's lines in the file)."""
        candidates = self.candidates(question, hits, question_vector)
        if not candidates:
            return ChosenAnswer("", None, None, None, float("-inf"), answered=False)
        best = max(candidates, key=self.weights.score)  # the first of equals, as argmax
        score = self.weights.score(best)
        hit = best.hit
        start, end = hit.passage.start + best.start, hit.passage.start + best.end
        urls = reference_urls(hit.passage.doc_id, start, end)
        citation = cite(hit.citation, start, end, best.text, safe_url(urls[0]) if urls else hit.citation.url)
        short = self.short_answer(question, best)
        short_citation = None
        if short is not None:
            short_citation = cite(citation, start + short.start, start + short.end, short.text)
        return ChosenAnswer(best.text, citation, short.text if short else None, short_citation,
                            score, answered=self.weights.supports(question, best))

    def candidates(self, question: str, hits: Sequence[Hit],
                   question_vector: np.ndarray | None = None) -> list[SentenceCandidate]:
        """The sentences of the top hits with their signals, for scoring here or in tuning."""
        if question_vector is None:
            question_vector = self.embedder([question])[0]
        found, unstored = [], []
        for hit in hits[:SENTENCES_FROM_TOP]:
            spans = split_sentences(hit.passage.text)
            stored = self.sentence_vectors(hit.passage.passage_id)
            if stored is not None and len(stored) != len(spans):
                stored = None  # split by an older splitter: embed its sentences instead
            for index, span in enumerate(spans):
                text = hit.passage.text[span.start:span.end]
                if len(_WORD.findall(text)) < 3:
                    continue
                if stored is None:
                    unstored.append((len(found), hit, text))
                found.append([hit, span.start, span.end, text, None if stored is None else float(stored[index] @ question_vector)])
        if unstored:
            # The title restores the subject a sentence leaves implicit ("Founded: October 2014.").
            vectors = self.embedder([f"{hit.citation.title}: {text}" for _, hit, text in unstored])
            for (position, _, _), vector in zip(unstored, vectors):
                found[position][4] = float(vector @ question_vector)
        kind = answer_kind(question)
        # Only a date, number, person or place question scores sentences by their short answer; for
        # the others it is found in the chosen sentence alone (``short_answer``).
        typed = kind in TYPED_KINDS
        return [SentenceCandidate(hit, start, end, text, similarity, _overlap(question, f"{hit.citation.title} {text}"),
                                  self.find_short(question, text, hit.citation.title, kind) if typed else None,
                                  _focus_overlap(question, hit.citation.title, text))
                for hit, start, end, text, similarity in found]

    def short_answer(self, question: str, candidate: SentenceCandidate) -> ShortSpan | None:
        """The short answer in the chosen ``candidate``, from spaCy's parse of it (the regex rules
        where the parse offers nothing)."""
        return self.find_final_short(question, candidate.text, candidate.hit.citation.title, answer_kind(question))


def _focus_overlap(question: str, title: str, sentence: str) -> float:
    """The share of the question's content words, less its document title's, that the sentence has."""
    asked = {w[:5] for w in _WORD.findall(question.lower()) if w not in _STOP}
    beyond_title = asked - {w[:5] for w in _WORD.findall(title.lower())}
    said = {w[:5] for w in _WORD.findall(sentence.lower())}
    return len(beyond_title & said) / max(1, len(beyond_title))


def _overlap(question: str, sentence: str) -> float:
    """The share of the question's content words the sentence has."""
    # Five-letter prefixes are a crude stemmer: "founders" meets "founded", "raised" meets "raise".
    asked = {w[:5] for w in _WORD.findall(question.lower()) if w not in _STOP}
    said = {w[:5] for w in _WORD.findall(sentence.lower())}
    return len(asked & said) / max(1, len(asked))
