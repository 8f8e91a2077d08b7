"""The public QA entry points: ``ask()`` over the bundled corpus and ``QA`` over any index."""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence, Union

import numpy as np

from index.backends import backend_for_index
from index.embedder import DEFAULT_MODEL, Embedder
from index.scope import Scope, ScopeError
from index.settings import Settings, current_settings
from index.store import IndexMismatch, IndexStore, IndexStoreError, current_version, is_built_from
from index.stores import open_store
from ingest import BUNDLED_CORPUS
from ingest.chunker import Chunking
from qa.answer import NO_ANSWER, AnswerExtractor
from qa.followup import Turn, rewrite
from qa.language import language_hint
from qa.retriever import DEFAULT_MODE, QuestionError, Retriever, check_k, check_mode, check_question
from qa.types import Answer, Hit, IndexStats

# What ``where`` takes: clauses as text (one, or a list), or a parsed ``Scope``.
Where = Union[Scope, str, Sequence[str], None]


def as_scope(where: Where) -> Scope:
    """``where`` parsed once; a bad clause is a ``ScopeError`` (a ``QuestionError``, so every caller
    that reports a bad question reports it in the same line)."""
    if isinstance(where, Scope):
        return where
    try:
        return Scope.parse(where)
    except ScopeError as error:
        raise ScopeQuestionError(str(error)) from None


class ScopeQuestionError(QuestionError, ScopeError):
    """A ``where`` that does not parse, raised where questions are checked."""


def default_index_dir(settings: Settings | None = None) -> Path:
    """``$DOCQA_INDEX``, else ``$XDG_CACHE_HOME/docqa/default-index`` (``~/.cache`` by default)."""
    return (settings or current_settings()).default_index


# How many questions a server should answer at once on a 2-core machine: QA is thread-safe, and more
# only split the same cores further (python -m eval.bench --concurrency measures it).
CONCURRENT_QUESTIONS = 4


class QA:
    """Question answering over one index.

    >>> qa = QA.open(default_qa().store.root)       # any index folder that ``qa index`` built
    >>> answer = qa.ask("When was SenseTime founded?", k=5)
    >>> "October 2014" in answer.answer
    True
    >>> answer.hits[0].citation.source
    '002_73259c55204946b0.txt'
    >>> qa.close()
    """

    def __init__(self, store: IndexStore, embedder: Embedder | None = None, mode: str = DEFAULT_MODE):
        embedder = embedder or _query_embedder(store, store.manifest.model)
        if embedder.model_name != store.manifest.model:
            raise IndexMismatch(
                f"{store.location} was built with {store.manifest.model!r}, not {embedder.model_name!r}; "
                f"open it with that model or rebuild it: qa index PATH --index {store.location} --rebuild --model {embedder.model_name}")
        self.store = store
        self.embedder = embedder
        self.retriever = Retriever(store, embedder, mode)
        self.extract_answer = AnswerExtractor(embedder, store.sentence_vectors)

    @classmethod
    def open(cls, index_dir: str | Path, model: str | None = None, mode: str = DEFAULT_MODE,
             settings: Settings | None = None, backend: str | None = None) -> "QA":
        """Open an index: a folder, or a vector database's location (``qdrant://host:6333/name``,
        ``qdrant+local:PATH``; see ``index.stores``). Its manifest names the model, which loads only
        from local files unless ``settings`` allow downloads (``--allow-download``,
        ``$DOCQA_ALLOW_DOWNLOAD=1``). Questions are encoded by the backend that made the index's
        vectors where it runs well here, unless the settings (or ``backend``, a shorthand) name one."""
        settings = _with_backend(settings, backend)
        store = open_store(index_dir)
        try:
            embedder = _query_embedder(store, model or store.manifest.model, settings)
        except Exception:
            store.close()
            raise
        return cls(store, embedder, mode)

    @classmethod
    def default(cls, mode: str = DEFAULT_MODE, progress: bool = True, settings: Settings | None = None,
                backend: str | None = None) -> "QA":
        """QA over the bundled corpus, building or refreshing its index when needed (a build in
        which nothing changed reads five file digests and writes nothing)."""
        settings = replace(_with_backend(settings, backend), model=None, chunking=Chunking())
        index_dir = default_index_dir(settings)
        if is_built_from(index_dir, BUNDLED_CORPUS, Chunking(), DEFAULT_MODEL):
            # The usual start: the five files unchanged, so neither the builder nor the parsers load.
            try:
                return cls.open(index_dir, mode=mode, settings=settings)
            except IndexStoreError:
                pass   # damaged past its manifest: the builder below remakes it
        from index.builder import BuildInProgress, IndexBuilder

        try:
            IndexBuilder(index_dir, settings, progress=progress)([BUNDLED_CORPUS], prune=True, replace_copies=True)
        except BuildInProgress:
            if current_version(index_dir) is None:
                raise
        except IndexStoreError:  # an old format or a damaged default index: it is ours to remake
            IndexBuilder(index_dir, settings, progress=progress, rebuild=True)([BUNDLED_CORPUS], prune=True,
                                                                               replace_copies=True)
        return cls.open(index_dir, mode=mode, settings=settings)

    def retrieve(self, question: str, k: int = 5, mode: str | None = None, where: Where = None) -> list[Hit]:
        """Thread-safe: independent questions may be asked from several threads at once. ``where``
        restricts the search to some documents, as ``qa ask --where`` does (``index.scope``)."""
        question, mode, scope = check_question(question), check_mode(mode or self.retriever.mode), as_scope(where)
        vector = None if mode == "bm25" else self._encode(question)   # BM25 alone needs no model
        return self.retriever(question, k, mode, question_vector=vector, scope=scope)

    def _encode(self, question: str) -> np.ndarray:
        """The question's vector. The model loads here, on the first question, not on open, so
        ``qa stats`` and listing documents never pay for it; its dimension is checked then."""
        vector = self.embedder([question])[0]
        if len(vector) != self.store.manifest.dimension:
            raise IndexMismatch(f"{self.store.location} holds {self.store.manifest.dimension}-dimensional vectors but "
                                f"{self.embedder.model_name!r} makes {len(vector)}-dimensional ones")
        return vector

    def ask(self, question: str, k: int = 5, mode: str | None = None,
            history: Sequence[Turn | str] | None = None, where: Where = None) -> Answer:
        """Answer ``question`` from the index. ``history``: the conversation's earlier questions,
        oldest first (plain strings, or ``qa.followup.Turn``); a follow-up whose subject is a pronoun
        or missing is searched with the subject of the last turn, as ``Answer.searched_for`` says.
        ``where`` (clauses like ``"path=notes/"``, ``["format=pdf", "date>=2020"]``, or a ``Scope``)
        answers from the documents it allows only.

        >>> qa = default_qa()
        >>> qa.ask("When was it founded?", history=["What is SenseTime?"]).searched_for
        'When was SenseTime founded?'
        >>> qa.ask("When was SenseTime founded?", where="path=002_*.txt").hits[0].citation.source
        '002_73259c55204946b0.txt'
        >>> outside = qa.ask("When was SenseTime founded?", where="path!=002_*.txt")
        >>> '002_73259c55204946b0.txt' in {hit.citation.source for hit in outside.hits}
        False
        """
        question, k, scope = check_question(question), check_k(k), as_scope(where)
        mode = check_mode(mode or self.retriever.mode)
        searched = rewrite(question, history).searched
        # One encoding of the question serves retrieval and the choice of answer sentence.
        vector = self._encode(searched)
        hits = self.retriever(searched, k, mode, question_vector=vector, scope=scope)
        chosen = self.extract_answer(searched, hits, self.store.reference_urls, question_vector=vector,
                                     cite=self.retriever.cite.span)
        if not chosen.answered:
            return Answer(question=question, mode=mode, hits=tuple(hits), answer=NO_ANSWER, answer_citation=None,
                          answered=False, hint=language_hint(question), searched_for=searched)
        return Answer(question=question, mode=mode, hits=tuple(hits), answer=chosen.sentence,
                      answer_citation=chosen.citation, short=chosen.short, short_citation=chosen.short_citation,
                      searched_for=searched)

    def stats(self) -> IndexStats:
        return IndexStats.of(self.store, self.embedder.backend)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "QA":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _with_backend(settings: Settings | None, backend: str | None) -> Settings:
    settings = settings or current_settings()
    return replace(settings, backend=backend) if backend else settings


def _query_embedder(store: IndexStore, model: str, settings: Settings | None = None) -> Embedder:
    settings = settings or current_settings()
    return Embedder(model, settings, backend=backend_for_index(store.manifest.embedding.backend, settings.backend))


_default_qa: QA | None = None
_default_lock = threading.Lock()


def default_qa() -> QA:
    """The ``QA`` over the bundled SenseTime corpus that ``ask`` uses: opened (and its index built
    or refreshed) on first use, then shared by every caller in the process."""
    global _default_qa
    with _default_lock:
        if _default_qa is None:
            _default_qa = QA.default()
    return _default_qa


def ask(question: str, k: int = 5, mode: str | None = None, history: Sequence[Turn | str] | None = None,
        where: Where = None) -> Answer:
    """Answer ``question`` from the bundled SenseTime corpus, building its index on first use
    (``history``: the earlier questions of a conversation; ``where``: a scope; see ``QA.ask``).

    >>> from qa import ask
    >>> ask("When was SenseTime founded?").hits[0].citation.source
    '002_73259c55204946b0.txt'
    """
    return default_qa().ask(question, k, mode, history=history, where=where)
