"""The public QA entry points: ``ask()`` over the bundled corpus and ``QA`` over any index."""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from index.builder import IndexBuilder
from index.embedder import Embedder
from index.store import IndexMismatch, IndexStore, IndexStoreError, Manifest, current_version
from ingest import BUNDLED_CORPUS
from ingest.loader import iter_files
from qa.answer import AnswerExtractor
from qa.retriever import DEFAULT_MODE, Retriever, check_k, check_mode, check_question
from qa.types import Answer, Hit


def default_index_dir() -> Path:
    """``$DOCQA_INDEX``, else ``$XDG_CACHE_HOME/docqa/default-index`` (``~/.cache`` by default)."""
    if os.environ.get("DOCQA_INDEX"):
        return Path(os.environ["DOCQA_INDEX"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "docqa" / "default-index"


# How many questions a server should answer at once on a 2-core machine: QA is thread-safe, and more
# only split the same cores further (eval/bench.py --concurrency measures it).
CONCURRENT_QUESTIONS = 4


@dataclass(frozen=True)
class IndexStats:
    documents: int
    passages: int
    model: str
    dimension: int
    dense_index: str
    path: str


class QA:
    """Question answering over one index.

    >>> qa = QA.open("path/to/index")                                   # doctest: +SKIP
    >>> answer = qa.ask("When was SenseTime founded?", k=5)              # doctest: +SKIP
    >>> answer.answer, answer.hits[0].citation.source                    # doctest: +SKIP
    ('SenseTime was co-founded in October 2014 by ...', '002_73259c55204946b0.txt')
    """

    def __init__(self, store: IndexStore, embedder: Embedder | None = None, mode: str = DEFAULT_MODE):
        embedder = embedder or Embedder(store.manifest.model)
        if embedder.model_name != store.manifest.model:
            raise IndexMismatch(
                f"{store.root} was built with {store.manifest.model!r}, not {embedder.model_name!r}; "
                f"open it with that model or rebuild it: qa index PATH --index {store.root} --rebuild --model {embedder.model_name}")
        self.store = store
        self.embedder = embedder
        self.retriever = Retriever(store, embedder, mode)
        self.extract_answer = AnswerExtractor(embedder)

    @classmethod
    def open(cls, index_dir: str | Path, model: str | None = None, mode: str = DEFAULT_MODE,
             allow_download: bool = False) -> "QA":
        """Open an index; its manifest names the model, which loads only from local files unless
        ``allow_download`` (or ``$DOCQA_ALLOW_DOWNLOAD=1``) lets it come from the hub."""
        store = IndexStore.open(index_dir)
        try:
            embedder = Embedder(model or store.manifest.model, allow_download=allow_download)
        except Exception:
            store.close()
            raise
        qa = cls(store, embedder, mode)
        if qa.embedder.dimension != store.manifest.dimension:
            raise IndexMismatch(f"{index_dir} holds {store.manifest.dimension}-dimensional vectors but "
                                f"{qa.embedder.model_name!r} makes {qa.embedder.dimension}-dimensional ones")
        return qa

    @classmethod
    def default(cls, mode: str = DEFAULT_MODE, progress: bool = True) -> "QA":
        """QA over the bundled corpus, building or refreshing its index when needed."""
        index_dir = default_index_dir()
        try:
            fresh = _default_index_is_fresh(index_dir)
        except IndexStoreError:  # an old format or a damaged default index: it is ours to remake
            fresh = None
        if not fresh:
            IndexBuilder(index_dir, progress=progress, rebuild=fresh is None)([BUNDLED_CORPUS], prune=True)
        return cls.open(index_dir, mode=mode)

    def retrieve(self, question: str, k: int = 5, mode: str | None = None) -> list[Hit]:
        """Thread-safe: independent questions may be asked from several threads at once."""
        return self.retriever(question, k, mode)

    def ask(self, question: str, k: int = 5, mode: str | None = None) -> Answer:
        question, k = check_question(question), check_k(k)
        mode = check_mode(mode or self.retriever.mode)
        hits = self.retrieve(question, k, mode)
        sentence, citation = self.extract_answer(question, hits, self.store.reference_urls)
        return Answer(question=question, mode=mode, hits=tuple(hits), answer=sentence, answer_citation=citation)

    def stats(self) -> IndexStats:
        manifest = self.store.manifest
        return IndexStats(self.store.count_documents(), self.store.count_passages(), manifest.model,
                          manifest.dimension, manifest.dense_index, str(self.store.root))

    def close(self) -> None:
        self.store.close()


def _default_index_is_fresh(index_dir: Path) -> bool:
    version = current_version(index_dir)
    if version is None:
        return False
    indexed = Manifest.read(version / "manifest.json").documents
    bundled = {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in iter_files([BUNDLED_CORPUS])}
    # Documents added later (UI uploads, say) may sit beside the bundled ones.
    return all(indexed.get(path) == digest for path, digest in bundled.items())


_default_qa: QA | None = None
_default_lock = threading.Lock()


def ask(question: str, k: int = 5, mode: str | None = None) -> Answer:
    """Answer ``question`` from the bundled SenseTime corpus, building its index on first use.

    >>> from qa import ask
    >>> ask("When was SenseTime founded?").hits[0].citation.source      # doctest: +SKIP
    '002_73259c55204946b0.txt'
    """
    global _default_qa
    with _default_lock:
        if _default_qa is None:
            _default_qa = QA.default()
    return _default_qa.ask(question, k, mode)
