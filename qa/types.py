"""What the QA stage returns: hits with citations and an answer sentence."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ingest.types import Passage


@dataclass(frozen=True)
class Citation:
    """Where a piece of text comes from, to be checked in the file itself.

    Attributes:
        path: the file on disk; ``source`` is its name as shown (``dump.xml#Title`` for a dump page).
        line_start, line_end: the lines of that file (1-based, inclusive) the cited text is on;
            for a page of a MediaWiki dump, lines of that page's wikitext (``article`` names the
            page). None for a PDF or a Word file, and in an index built before lines were kept.
        page: the PDF page the cited text is on.
        paragraph: the Word file's paragraph it starts in (1-based, as python-docx's
            ``Document.paragraphs`` counts them).
        text: the cited text, exactly as the cleaned text has it.
        clean_start, clean_end: its span in the document's cleaned text
            (``document.text[clean_start:clean_end] == text``).
    """

    source: str
    title: str
    section: str
    url: str
    clean_start: int
    clean_end: int
    doc_id: str
    published: str = ""
    page: int | None = None
    path: str = ""
    line_start: int | None = None
    line_end: int | None = None
    paragraph: int | None = None
    article: str = ""
    text: str = ""

    @property
    def start(self) -> int:
        """``clean_start``, by its earlier name."""
        return self.clean_start

    @property
    def end(self) -> int:
        """``clean_end``, by its earlier name."""
        return self.clean_end

    def location(self, path: str | None = None) -> str:
        """Where to open it, as compilers print it: ``docs/a.md:12``; ``report.pdf, page 3`` for a
        PDF, ``notes.docx, paragraph 7`` for a Word file, ``dump.xml, page "Title", line 12`` for a
        dump. ``path`` replaces the stored one (a shorter relative path, say).

        >>> Citation("a.md", "A", "", "", 0, 5, "d", path="docs/a.md", line_start=12, line_end=13).location()
        'docs/a.md:12'
        """
        path = path or self.path or self.source
        if self.page is not None:
            return f"{path}, page {self.page}"
        if self.paragraph is not None:
            return f"{path}, paragraph {self.paragraph}"
        if self.article:
            return f'{path}, page "{self.article}"' + (f", line {self.line_start}" if self.line_start else "")
        return f"{path}:{self.line_start}" if self.line_start else path


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
    mode: str     # an index.contracts.SearchMode (a str): importing the index package here would load FAISS
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


@dataclass(frozen=True)
class IndexStats:
    """What ``qa stats`` shows of an index (``QA.stats``)."""

    documents: int
    passages: int
    model: str
    dimension: int
    dense_index: str
    path: str
    backend: str = ""          # what made the passage vectors ("a + b" where several backends did)
    query_backend: str = ""    # what encodes questions now

    @classmethod
    def of(cls, store, query_backend: str) -> "IndexStats":
        """The stats of an open ``store`` (an ``index.contracts.IndexReader``), questions encoded by ``query_backend``."""
        manifest = store.manifest
        return cls(store.count_documents(), store.count_passages(), manifest.model, manifest.dimension,
                   manifest.dense_index, store.location, manifest.embedding.made_by, query_backend)
