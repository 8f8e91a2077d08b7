"""Build or update an index: embed only what is new, then swap the new version in atomically."""
from __future__ import annotations

import fcntl
import logging
import sqlite3
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Iterable, Sequence

import numpy as np
from tqdm.auto import tqdm

from index.backends import AUTO, detect_cpu
from index.backends.base import passage_embedding_text
from index.cache import EmbeddingCache, embedding_key
from index.dense import DenseIndex, build_dense_index, choose_index_type
from index.embedder import DEFAULT_MODEL, Embedder
from index.lexical import LexicalIndex
from index.sentence_vectors import COUNTS_FILE, SentenceVectors, passage_sentence_spans
from index.store import (
    DiskFull, IndexMismatch, IndexNotFound, IndexStore, IndexStoreError, Manifest, claim_index_folder, current_version,
    is_disk_full, write_version,
)
from ingest.chunker import Chunker
from ingest.loader import DocumentLoader
from ingest.reader import DEFAULT_MAX_BYTES
from ingest.types import Document, IngestWarning, Passage

log = logging.getLogger("docqa.index")
# Small enough that a killed build loses little work, large enough to keep the model busy.
EMBED_BATCH = 64


@dataclass(frozen=True)
class BuildReport:
    index_dir: str
    documents: int
    passages: int
    embedded: int
    reused: int
    added_documents: int
    changed_documents: int
    removed_documents: int
    warnings: tuple[IngestWarning, ...] = ()
    seconds: dict = field(default_factory=dict)
    written: bool = True
    backend: str = ""

    def summary(self) -> str:
        timing = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        if not self.written:
            return (f"{self.documents} documents, {self.passages} passages in {self.index_dir}: "
                    f"nothing changed, nothing written ({timing})")
        backend = f" with {self.backend}" if self.embedded else ""
        return (f"{self.documents} documents, {self.passages} passages in {self.index_dir}: "
                f"{self.added_documents} added, {self.changed_documents} changed, {self.removed_documents} removed; "
                f"embedded {self.embedded}{backend}, reused {self.reused} ({timing})")


class BuildInProgress(IndexStoreError):
    pass


class NothingToIndex(IndexStoreError):
    pass


class IndexBuilder:
    """Create or incrementally update the index in ``index_dir``.

    The previous version is read only once the build holds the folder's lock, so two overlapping
    builds each see the other's documents and neither is lost. Files whose bytes match the previous
    version's are not parsed again, and a build in which nothing changed writes nothing.

    >>> import tempfile
    >>> from ingest import BUNDLED_CORPUS
    >>> folder = tempfile.mkdtemp()
    >>> report = IndexBuilder(folder, progress=False)([BUNDLED_CORPUS])
    >>> report.documents, report.written
    (5, True)
    >>> IndexBuilder(folder, progress=False)([BUNDLED_CORPUS]).written      # nothing changed: nothing written
    False
    """

    def __init__(self, index_dir: str | Path, model_name: str | None = None, max_tokens: int = 200,
                 overlap_sentences: int = 1, index_type: str = "auto", progress: bool = True,
                 max_bytes: int = DEFAULT_MAX_BYTES, rebuild: bool = False, embedder: Embedder | None = None,
                 allow_download: bool = False, backend: str = AUTO):
        self.index_dir = Path(index_dir)
        self.rebuild = rebuild
        claim_index_folder(self.index_dir)
        live = None if rebuild else current_version(self.index_dir)
        indexed_model = Manifest.read(live / "manifest.json").model if live else None
        self._check_model(indexed_model, model_name)
        model_name = model_name or indexed_model or DEFAULT_MODEL
        self.embedder = (embedder if embedder and embedder.model_name == model_name
                         else Embedder(model_name, allow_download=allow_download, backend=backend))
        self.previous: IndexStore | None = None
        self.chunker = Chunker(max_tokens, overlap_sentences, count_tokens=self.embedder.count_tokens)
        self.index_type = index_type
        self.progress = progress
        self.max_bytes = max_bytes
        self.loader = DocumentLoader(max_bytes=max_bytes)

    def __call__(self, paths: Sequence[str | Path], prune: bool = False, replace_copies: bool = False) -> BuildReport:
        """Add or update the documents under ``paths``.

        Args:
            paths: files and folders to read.
            prune: also drop documents whose files are gone from ``paths`` (or from the disk).
            replace_copies: drop indexed documents with the same content as one read now but at
                another path. An index that a tool keeps for a fixed corpus (the bundled corpus,
                the eval's) uses it, so a second checkout of that corpus elsewhere on the machine
                replaces the first instead of doubling every hit.
        """
        roots = [Path(p).resolve() for p in paths]
        with self._exclusive(), self._previous_version():
            # A version from before front-matter fields were kept has its files read again, once, for them.
            known_files = self.previous.manifest.files if self._same_chunking() and self.previous.records_fields else {}
            self.loader = DocumentLoader(max_bytes=self.max_bytes, known_files=known_files)
            started = time.perf_counter()
            loaded = list(tqdm(self.loader(paths), desc="reading", unit=" docs", disable=not self.progress))
            return self._build(loaded, prune_under=roots if prune else None, warnings=tuple(self.loader.warnings),
                               parse_seconds=time.perf_counter() - started, replace_copies=replace_copies)

    def __enter__(self) -> "IndexBuilder":
        return self

    def __exit__(self, *exc) -> None:
        """Nothing to release: a build holds its folder's lock only while it runs. (A vector
        database's builder holds a client, and the two are used alike: ``with make_builder(...)``.)"""

    def close(self) -> None:
        pass

    def _check_model(self, indexed_model: str | None, wanted_model: str | None) -> None:
        if indexed_model and wanted_model and wanted_model != indexed_model:
            raise IndexMismatch(
                f"{self.index_dir} was built with {indexed_model!r}, not {wanted_model!r}; "
                "pass --rebuild to re-embed everything with the new model")

    def build(self, loaded: Iterable[Document], prune_under: Sequence[Path] | None = None,
              warnings: tuple[IngestWarning, ...] = (), parse_seconds: float = 0.0) -> BuildReport:
        """Add or update already loaded documents (their files are not compared by digest)."""
        self.loader = DocumentLoader(max_bytes=self.max_bytes)
        with self._exclusive(), self._previous_version():
            return self._build(list(loaded), prune_under, warnings, parse_seconds)

    @contextmanager
    def _previous_version(self):
        """Open the live version as ``self.previous`` for the build (call it holding the lock)."""
        live = None if self.rebuild else current_version(self.index_dir)
        # Manifest and SQLite only: what changed is decided without loading FAISS or BM25.
        self.previous = IndexStore(self.index_dir, live, searchable=False) if live else None
        try:
            if self.previous:
                # Another build may have re-embedded the folder with another model since __init__.
                self._check_model(self.previous.manifest.model, self.embedder.model_name)
            yield
        except sqlite3.OperationalError as error:
            if is_disk_full(error):
                raise DiskFull(f"no space left on the disk of {self.index_dir}; the live index is unchanged: "
                               "free some space and rerun (embeddings made so far are kept)") from None
            raise
        finally:
            if self.previous:
                self.previous.close()

    def _same_chunking(self) -> bool:
        """Whether the previous version's passages were cut as this build would cut them."""
        return self.previous is not None and self.previous.manifest.chunking == self.chunker.settings

    def remove(self, doc_ids: Collection[str]) -> BuildReport:
        """Write a version without the documents ``doc_ids`` (their passages' embeddings stay cached).

        Raises ``KeyError`` naming an id the index does not hold, and ``NothingToIndex`` when
        they are all the documents it has.
        """
        with self._exclusive(), self._previous_version():
            if self.previous is None:
                raise IndexNotFound(f"{self.index_dir} holds no index yet")
            keys = self.previous.document_keys(doc_ids)
            missing = set(doc_ids) - set(keys)
            if missing:
                raise KeyError(sorted(missing)[0])
            return self._build([], None, (), 0.0, drop=set(keys.values()))

    def _build(self, loaded: list[Document], prune_under, warnings, parse_seconds,
               replace_copies: bool = False, drop: Collection[str] = ()) -> BuildReport:
        timings = {"parse": parse_seconds}
        previous_hashes = self.previous.manifest.documents if self.previous else {}
        unchanged_files = self.loader.unchanged_files
        added = sum(1 for d in loaded if d.key not in previous_hashes)
        changed = sum(1 for d in loaded if previous_hashes.get(d.key, d.content_hash) != d.content_hash)
        loaded_keys = {d.key for d in loaded}
        previous_paths = self.previous.document_paths() if self.previous else {}
        copied_hashes = ({d.content_hash for d in loaded} | {previous_hashes[key] for key, path in previous_paths.items()
                                                            if path in unchanged_files}
                         if replace_copies else set())
        removed = [key for key, path in previous_paths.items()
                   if key not in loaded_keys and path not in unchanged_files
                   and ((prune_under is not None and _should_prune(path, prune_under))
                        or previous_hashes[key] in copied_hashes or key in drop)]
        files = self._file_digests(loaded, previous_paths, removed)
        if self.previous and not (added or changed or removed) and self._same_layout(files):
            return BuildReport(
                index_dir=str(self.index_dir), documents=len(previous_hashes), passages=self.previous.manifest.passages,
                embedded=0, reused=self.previous.manifest.passages, added_documents=0, changed_documents=0, removed_documents=0,
                warnings=warnings, seconds=timings, written=False)

        previous_docs = {d.key: d for d in self.previous.documents()} if self.previous else {}
        documents = {**previous_docs, **{d.key: d for d in loaded}}
        for key in removed:
            del documents[key]
        if not documents:
            raise NothingToIndex("no readable documents were found, so no index was written")
        ordered = [documents[key] for key in sorted(documents)]

        clock = time.perf_counter()
        passages = self._passages(ordered, {d.doc_id for d in previous_docs.values()})
        timings["chunk"] = time.perf_counter() - clock

        texts = list(self._texts(ordered, passages))
        clock = time.perf_counter()
        vectors, sentences, made_by, embedded = self._vectors(
            [key for _, key in passages], texts, [passage.text for passage, _ in passages])
        timings["embed"] = time.perf_counter() - clock

        clock = time.perf_counter()
        index_type = choose_index_type(len(passages), self.index_type)
        dense = DenseIndex(build_dense_index(vectors, index_type))
        lexical = LexicalIndex.build(texts)
        manifest = Manifest(
            model=self.embedder.model_name, dimension=int(vectors.shape[1]),
            chunking=self.chunker.settings, embedding=self._embedding_record(made_by),
            dense_index=index_type, documents={d.key: d.content_hash for d in ordered},
            passages=len(passages), created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), files=files,
        )
        write_version(self.index_dir, manifest, ordered, passages, dense, lexical,
                      SentenceVectors.from_rows(sentences, int(vectors.shape[1])))
        self._cache().retain([key for _, key in passages])
        timings["write"] = time.perf_counter() - clock
        return BuildReport(
            index_dir=str(self.index_dir), documents=len(ordered), passages=len(passages),
            embedded=embedded, reused=len(passages) - embedded, added_documents=added,
            changed_documents=changed, removed_documents=len(removed), warnings=warnings, seconds=timings,
            backend=self.embedder.backend,
        )

    def _file_digests(self, loaded: list[Document], previous_paths: dict[str, str], removed: list[str]) -> dict[str, str]:
        """sha256 of every file the new version's documents come from. A file whose documents were
        handed in already loaded (``build``) gets none, so the next build reads it again."""
        digests = {**(self.previous.manifest.files if self.previous else {}), **self.loader.file_digests}
        for document in loaded:
            if document.path not in self.loader.file_digests:
                digests.pop(document.path, None)
        removed_keys = set(removed)
        kept = {path for key, path in previous_paths.items() if key not in removed_keys} | {d.path for d in loaded}
        return {path: digests[path] for path in sorted(kept) if path in digests}

    def _same_layout(self, files: dict[str, str]) -> bool:
        """Whether the previous version already is what this build would write."""
        manifest = self.previous.manifest
        return (manifest.files == files and self._same_chunking() and self.previous.records_fields
                and manifest.dense_index == choose_index_type(manifest.passages, self.index_type)
                and (self.previous.version / COUNTS_FILE).is_file())   # written before sentence vectors: upgrade it

    @staticmethod
    def _embedding_record(made_by: dict[str, int]) -> dict:
        """Which backend made how many of the vectors: backends agree to a cosine of about 0.9999,
        so vectors are reused across backends (docs/benchmarks.md: "Embedding backends"), and an index that
        holds vectors of several says so."""
        main = max(made_by, key=made_by.get) if made_by else ""
        return {"passage_text": "title\\nsection\\ntext", "normalized": True, "backend": main,
                "precision": main.rpartition("-")[2], "vectors_by_backend": dict(sorted(made_by.items())),
                "mixed_backends": len(made_by) > 1, "cpu": detect_cpu().level}

    def _passages(self, documents: list[Document], previous_ids: set[str]) -> list[tuple[Passage, str]]:
        """Chunk new and changed documents; take unchanged ones' passages as stored."""
        unchanged = previous_ids if self._same_chunking() else set()
        passages: list[tuple[Passage, str]] = []
        for document in tqdm(documents, desc="chunking", unit=" docs", disable=not self.progress or len(documents) < 50):
            if document.doc_id in unchanged:
                passages.extend(self.previous.passages_of(document.doc_id))
                continue
            for passage in self.chunker(document):
                text = passage_embedding_text(document.title, passage.section, passage.text)
                passages.append((passage, embedding_key(self.embedder.model_name, text)))
        return passages

    @staticmethod
    def _texts(documents: list[Document], passages: list[tuple[Passage, str]]) -> Iterable[str]:
        titles = {d.doc_id: d.title for d in documents}
        for passage, _ in passages:
            yield passage_embedding_text(titles[passage.doc_id], passage.section, passage.text)

    def _vectors(self, keys: list[str], texts: list[str],
                 passage_texts: list[str]) -> tuple[np.ndarray, list[np.ndarray], Counter, int]:
        """Every passage's vector and sentence vectors, how many rows each backend made, and how
        many this build embedded. A vector cached before sentence vectors existed is made again,
        once, so every passage of the new version has both."""
        cache = self._cache()
        cached = {key: item for key, item in cache.get_many(keys).items() if item.sentences is not None}
        known = {key: item.vector for key, item in cached.items()}
        sentences_of = {key: item.sentences for key, item in cached.items()}
        backend_of = {key: item.backend for key, item in cached.items()}
        spans_of = {key: passage_sentence_spans(text, passage) for key, text, passage in zip(keys, texts, passage_texts)
                    if key not in known}
        missing = list({key: text for key, text in zip(keys, texts) if key not in known}.items())
        # Similar lengths side by side, so each batch pads little.
        missing.sort(key=lambda item: len(item[1]), reverse=True)
        if missing:
            log.info("embedding %d new passages (%d reused)", len(missing), len(keys) - len(missing))
        with tqdm(total=len(missing), desc="embedding", unit=" passages", disable=not self.progress or not missing) as bar:
            for offset in range(0, len(missing), EMBED_BATCH):
                batch = missing[offset:offset + EMBED_BATCH]
                vectors, sentences = self.embedder.embed_with_spans([text for _, text in batch],
                                                                    [spans_of[key] for key, _ in batch])
                cache.put_many([key for key, _ in batch], vectors, self.embedder.backend, sentences)
                known.update(zip((key for key, _ in batch), vectors))
                sentences_of.update(zip((key for key, _ in batch), sentences))
                backend_of.update((key, self.embedder.backend) for key, _ in batch)
                bar.update(len(batch))
        dimension = len(next(iter(known.values()))) if known else self.embedder.dimension
        matrix = np.zeros((len(keys), dimension), dtype=np.float32)
        for row, key in enumerate(keys):
            matrix[row] = known[key]
        return matrix, [sentences_of[key] for key in keys], Counter(backend_of[key] for key in keys), len(missing)

    def _cache(self) -> EmbeddingCache:
        if not hasattr(self, "_embedding_cache"):
            self._embedding_cache = EmbeddingCache.open_or_reset(self.index_dir / "embeddings.sqlite")
        return self._embedding_cache

    @contextmanager
    def _exclusive(self):
        claim_index_folder(self.index_dir)
        with open(self.index_dir / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BuildInProgress(f"another build is writing {self.index_dir}; wait for it to finish") from None
            yield


def _should_prune(path: str, roots: Sequence[Path]) -> bool:
    file_path = Path(path)
    if not file_path.exists():
        return True
    return any(file_path == root or root in file_path.parents for root in roots)
