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


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    passage: Passage
    citation: Citation


@dataclass(frozen=True)
class Answer:
    question: str
    mode: str
    hits: tuple[Hit, ...]
    answer: str
    answer_citation: Citation | None

    def to_dict(self) -> dict:
        return asdict(self)
