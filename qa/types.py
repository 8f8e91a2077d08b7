"""What the QA stage returns: hits with citations and an answer sentence."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ingest.types import Passage


@dataclass(frozen=True)
class Citation:
    """Where a piece of text comes from: ``start``/``end`` index the document's cleaned text."""

    source: str
    title: str
    section: str
    url: str
    start: int
    end: int
    doc_id: str
    published: str = ""
    page: int | None = None      # the PDF page the cited text is on


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    passage: Passage
    citation: Citation


@dataclass(frozen=True)
class Answer:
    """What ``QA.ask`` returns.

    Attributes:
        question: the question, as asked.
        mode: the retrieval mode used (hybrid, dense or bm25).
        hits: the top passages, best first, each with its citation.
        answer: the sentence of the top passages that answers the question; where none scores
            high enough, ``NO_ANSWER`` ("Not found in these documents.") and ``answered``
            is False, while ``hits`` still hold the closest passages.
        answer_citation: where ``answer`` lies in its document (None when not answered).
        short: the exact words that answer inside ``answer``: a date, number, person or place
            when the question asks for one, else the clause with what the question lacks; None
            when no span of that kind is in the sentence, rather than a guess.
        short_citation: where ``short`` lies in its document's cleaned text.
        answered: whether ``answer`` answers, or the evidence did not support one.
        hint: when declined, a one-line hint where the question is in a language the model
            was not trained for; else empty.
        searched_for: the question retrieval used: a follow-up's with the subject of the
            conversation put in (``qa.followup``), else the question as asked.
    """

    question: str
    mode: str
    hits: tuple[Hit, ...]
    answer: str
    answer_citation: Citation | None
    short: str | None = None
    short_citation: Citation | None = None
    answered: bool = True
    hint: str = ""
    searched_for: str = ""

    def __post_init__(self):
        if not self.searched_for:
            object.__setattr__(self, "searched_for", self.question)

    @property
    def rewritten(self) -> bool:
        """Whether the question was searched for in other words (a follow-up given its subject)."""
        return self.searched_for != self.question

    def to_dict(self) -> dict:
        return asdict(self)
