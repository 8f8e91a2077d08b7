"""The one build pipeline: read -> chunk -> embed -> write, the same for every store.

The builder decides what a build does: which documents are new or changed, which are dropped
(``removals``), which vectors can be reused, and which passages must be embedded (``embed_chunks``,
the only embed loop); a store's ``IndexWriter`` (``index.contracts``) only keeps what it is given.
The model and chunking checks (``check_compatible``) are made here, once, for every store.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Iterable, Iterator, Mapping, Sequence

import numpy as np
from tqdm.auto import tqdm

from index.backends import detect_cpu
from index.backends.base import passage_embedding_text
from index.cache import embedding_key
from index.contracts import (
    ChunkedDocument, ChunkedPassage, DocumentState, EmbeddedDocument, IndexedDocument, IndexWriter, StoredVector,
)
from index.embedder import DEFAULT_MODEL, Embedder
from index.sentence_vectors import passage_sentence_spans
from index.settings import Settings, current_settings
from index.store import BuildInProgress, EmbeddingRecord, IndexMismatch, IndexNotFound, Manifest, NothingToIndex
from index.stores import open_writer
from ingest.chunker import Chunker, Chunking
from ingest.loader import DocumentLoader
from ingest.types import Document, IngestWarning

__all__ = ["BuildInProgress", "BuildReport", "IndexBuilder", "NothingToIndex", "check_compatible", "embed_chunks",
           "make_builder", "removals"]

log = logging.getLogger("docqa.index")
# Small enough that a killed build loses little work, large enough to keep the model busy.
EMBED_BATCH = 64
# New passages embedded before their documents are written: a killed build loses at most these.
GROUP_PASSAGES = 256


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
    seconds: dict[str, float] = field(default_factory=dict)
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


def check_compatible(location: str, manifest: Manifest | None, model: str | None, chunking: Chunking,
                     rechunks: bool) -> None:
    """``IndexMismatch`` where the index at ``location`` was built with another model than ``model``
    (None: whatever it has), or with other chunking in a store that cannot re-chunk in place."""
    if manifest is None:
        return
    if model and model != manifest.model:
        raise IndexMismatch(f"{location} was built with {manifest.model!r}, not {model!r}; "
                            "pass --rebuild to re-embed everything with the new model")
    if not rechunks and manifest.chunking != chunking:
        raise IndexMismatch(f"{location} was chunked with {manifest.chunking}, not {chunking}; "
                            "pass --rebuild to chunk and embed everything again")


def needs_writing(document: Document, indexed: Mapping[str, IndexedDocument]) -> bool:
    held = indexed.get(document.key)
    return held is None or held.state != DocumentState.COMPLETE or held.content_hash != document.content_hash


def removals(indexed: Mapping[str, IndexedDocument], seen_keys: Collection[str], seen_hashes: Collection[str],
             unchanged_files: Collection[str], prune_under: Sequence[Path] | None, replace_copies: bool,
             drop: Collection[str] = ()) -> list[IndexedDocument]:
    """The held documents a build drops: those named in ``drop``, those gone from the pruned
    folders, copies of a document seen elsewhere (``replace_copies``), and any half removed before.
    A document read now, or in a file whose bytes are unchanged, is never dropped (but by ``drop``)."""
    copied = (set(seen_hashes) | {d.content_hash for d in indexed.values() if d.path in unchanged_files}
              if replace_copies else set())
    return [d for key, d in indexed.items()
            if key in drop or (key not in seen_keys and d.path not in unchanged_files
                               and (d.state == DocumentState.REMOVING or d.content_hash in copied
                                    or (prune_under is not None and _should_prune(d.path, prune_under))))]


def chunk_document(chunker: Chunker, model_name: str, document: Document, file_digest: str = "") -> ChunkedDocument:
    """The chunk stage: a document's passages, each with the text its vector is made from and that
    text's embedding key."""
    passages = []
    for passage in chunker(document):
        text = passage_embedding_text(document.title, passage.section, passage.text)
        passages.append(ChunkedPassage(passage, embedding_key(model_name, text), text))
    return ChunkedDocument(document, tuple(passages), file_digest)


def embed_chunks(embedder: Embedder, chunks: Sequence[ChunkedPassage]
                 ) -> Iterator[tuple[Sequence[ChunkedPassage], np.ndarray, list[np.ndarray]]]:
    """The embed loop: ``(batch, vectors, sentence vectors)`` for each ``EMBED_BATCH`` of ``chunks``,
    the sentence vectors pooled from the same forward pass."""
    for offset in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[offset:offset + EMBED_BATCH]
        spans = [passage_sentence_spans(chunk.text, chunk.passage.text) for chunk in batch]
        vectors, sentences = embedder.embed_with_spans([chunk.text for chunk in batch], spans)
        yield batch, vectors, sentences


def embedded_document(chunked: ChunkedDocument, vectors: Mapping[str, StoredVector], dimension: int) -> EmbeddedDocument:
    keys = [chunk.embed_key for chunk in chunked.passages]
    return EmbeddedDocument(
        chunked.document, tuple(c.passage for c in chunked.passages), tuple(keys), tuple(c.text for c in chunked.passages),
        np.array([vectors[key].vector for key in keys], dtype=np.float32).reshape(len(keys), dimension),
        tuple(vectors[key].sentences for key in keys), chunked.file_digest, tuple(vectors[key].backend for key in keys))


class IndexBuilder:
    """Create or incrementally update the index at ``location``: a folder, or a vector database
    (``index.stores``), or any ``IndexWriter``.

    A folder's previous version is read only once the build holds the folder's lock, so two
    overlapping builds each see the other's documents and neither is lost. Files whose bytes
    match what the index holds are not parsed again, and a build in which nothing changed writes
    nothing.

    >>> import tempfile
    >>> from ingest import BUNDLED_CORPUS
    >>> folder = tempfile.mkdtemp()
    >>> report = IndexBuilder(folder, progress=False)([BUNDLED_CORPUS])
    >>> report.documents, report.written
    (5, True)
    >>> IndexBuilder(folder, progress=False)([BUNDLED_CORPUS]).written      # nothing changed: nothing written
    False

    Parameters:
        location: where the index is (``--index``), or a writer.
        settings: model, backend, chunking and limits (default: the environment's and the defaults).
        progress: show progress bars.
        rebuild: start from nothing instead of updating (the old index stays until the new one is written).
        embedder: a loaded model to use where it is the index's.
    """

    def __init__(self, location: str | Path | IndexWriter, settings: Settings | None = None, *, progress: bool = True,
                 rebuild: bool = False, embedder: Embedder | None = None):
        self.settings = settings or current_settings()
        self.writer: IndexWriter = (open_writer(location, self.settings, rebuild) if isinstance(location, (str, Path))
                                    else location)
        try:
            self.location = self.writer.location
            self._check(self.writer.manifest, self.settings.model)
            manifest = self.writer.manifest
            model_name = self.settings.model or (manifest.model if manifest else None) or DEFAULT_MODEL
            self.embedder = (embedder if embedder and embedder.model_name == model_name
                             else Embedder(model_name, self.settings))
            self.chunker = Chunker.of(self.settings.chunking, count_tokens=self.embedder.count_tokens)
        except BaseException:
            self.writer.close()
            raise
        self.progress = progress
        self.loader = DocumentLoader(max_bytes=self.settings.max_bytes)

    def __enter__(self) -> "IndexBuilder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.writer.close()

    # The three ways to build.

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
        with self.writer.session():
            self._check(self.writer.manifest, self.embedder.model_name)   # another build may have re-embedded it meanwhile
            indexed = self.writer.indexed()
            self.loader = DocumentLoader(max_bytes=self.settings.max_bytes, known_files=self.known_files(indexed))
            started = time.perf_counter()
            loaded = list(tqdm(self.loader(paths), desc="reading", unit=" docs", disable=not self.progress))
            return self._build(loaded, indexed, roots if prune else None, tuple(self.loader.warnings),
                               time.perf_counter() - started, replace_copies, self.loader.file_digests,
                               self.loader.unchanged_files)

    def build(self, loaded: Iterable[Document], prune_under: Sequence[Path] | None = None,
              warnings: tuple[IngestWarning, ...] = (), parse_seconds: float = 0.0) -> BuildReport:
        """Add or update already loaded documents (their files are not compared by digest)."""
        self.loader = DocumentLoader(max_bytes=self.settings.max_bytes)
        with self.writer.session():
            self._check(self.writer.manifest, self.embedder.model_name)
            return self._build(list(loaded), self.writer.indexed(), prune_under, warnings, parse_seconds)

    def remove(self, doc_ids: Collection[str]) -> BuildReport:
        """Drop the documents ``doc_ids`` (a folder's cached embeddings of them are kept).

        Raises ``KeyError`` naming an id the index does not hold, and ``NothingToIndex`` when
        they are all the documents it has.
        """
        with self.writer.session():
            if self.writer.manifest is None:
                raise IndexNotFound(f"{self.location} holds no index yet")
            indexed = self.writer.indexed()
            by_id = {d.doc_id: d for d in indexed.values()}
            missing = set(doc_ids) - set(by_id)
            if missing:
                raise KeyError(sorted(missing)[0])
            return self._build([], indexed, None, (), 0.0, drop={by_id[doc_id].key for doc_id in doc_ids})

    # The stages' decisions, shared with Ray's driver (index.ray_ingest).

    def _check(self, manifest: Manifest | None, model: str | None) -> None:
        check_compatible(self.location, manifest, model, self.settings.chunking, self.writer.rechunks)

    def rechunking(self) -> bool:
        """Whether this build cuts passages otherwise than the index did (only a store that writes
        whole versions gets here: the others refuse it in ``check_compatible``)."""
        return self.writer.manifest is not None and self.writer.manifest.chunking != self.chunker.settings

    def known_files(self, indexed: Mapping[str, IndexedDocument]) -> dict[str, str]:
        """Digests of files all of whose documents are completely written: those are not read again."""
        if self.rechunking():
            return {}
        digests: dict[str, str] = {}
        incomplete = set()
        for document in indexed.values():
            if document.state != DocumentState.COMPLETE or not document.file_digest:
                incomplete.add(document.path)
            else:
                digests[document.path] = document.file_digest
        return {path: digest for path, digest in digests.items() if path not in incomplete}

    def chunk(self, document: Document, file_digest: str = "") -> ChunkedDocument:
        return chunk_document(self.chunker, self.embedder.model_name, document, file_digest)

    def new_manifest(self, made_by: Mapping[str, int] | None = None, dimension: int | None = None) -> Manifest:
        """The manifest of what this build writes (a store completes it: counts, files, checksums).
        ``made_by``: how many vectors each backend made, where known (a store written in place
        records the backend that created it)."""
        dimension = dimension or self.embedder.dimension     # loads the model, which settles its backend
        embedding = (EmbeddingRecord.of(made_by, detect_cpu().level) if made_by else
                     EmbeddingRecord(self.embedder.backend, precision=self.embedder.backend.rpartition("-")[2]))
        return Manifest(model=self.embedder.model_name, dimension=dimension, chunking=self.chunker.settings,
                        embedding=embedding, dense_index="", created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        settings=self.settings.record(self.embedder.model_name))

    def report(self, documents: int, added: int = 0, changed: int = 0, removed: int = 0, embedded: int = 0,
               reused: int | None = None, warnings: Iterable[IngestWarning] = (), seconds: dict | None = None,
               written: bool = True, backend: str = "") -> BuildReport:
        """What a build did, with the store's passage count now (``reused``: by default every
        passage not embedded now; ``backend``: what embedded, where not this builder's own model)."""
        passages = self.writer.count_passages()
        return BuildReport(index_dir=self.location, documents=documents, passages=passages, embedded=embedded,
                           reused=passages - embedded if reused is None else reused, added_documents=added,
                           changed_documents=changed, removed_documents=removed, warnings=tuple(warnings),
                           seconds=seconds or {}, written=written, backend=backend or self.embedder.backend)

    def _build(self, loaded: list[Document], indexed: dict[str, IndexedDocument], prune_under, warnings, parse_seconds,
               replace_copies: bool = False, file_digests: Mapping[str, str] | None = None,
               unchanged_files: Collection[str] = (), drop: Collection[str] = ()) -> BuildReport:
        timings = {"parse": parse_seconds}
        file_digests = file_digests or {}
        rechunk = self.rechunking()
        to_write = [d for d in loaded if needs_writing(d, indexed)]
        added = sum(1 for d in to_write if d.key not in indexed)
        removed = removals(indexed, {d.key for d in loaded}, {d.content_hash for d in loaded}, unchanged_files,
                           prune_under, replace_copies, drop)
        removed_keys = {d.key for d in removed}
        remaining = (set(indexed) - removed_keys) | {d.key for d in loaded}
        if not remaining:
            raise NothingToIndex("no readable documents were found, so no index was written")
        files = _file_digests(indexed, loaded, removed_keys, file_digests)
        if not (to_write or removed or rechunk) and self.writer.up_to_date(files, removed_keys):
            return self.report(len(remaining), reused=self.writer.count_passages(), warnings=warnings,
                               seconds=timings, written=False)

        clock = time.perf_counter()
        written_keys = {d.key for d in to_write}
        chunked = [self.chunk(d, file_digests.get(d.path, "")) for d in
                   tqdm(to_write, desc="chunking", unit=" docs", disable=not self.progress or len(to_write) < 50)]
        for document, stored in self.writer.carried(remaining - written_keys):
            digest = files.get(document.path, "")
            chunked.append(self.chunk(document, digest) if rechunk else ChunkedDocument(
                document, tuple(ChunkedPassage(p, key, passage_embedding_text(document.title, p.section, p.text))
                                for p, key in stored), digest))
        timings["chunk"] = time.perf_counter() - clock

        clock = time.perf_counter()
        self.writer.begin(self.new_manifest, [c.text for item in chunked for c in item.passages])
        made_by: Counter[str] = Counter()
        embedded = dimension = 0
        for group, made in self._embed(chunked, indexed, written_keys):
            embedded += made
            made_by.update(backend for item in group for backend in item.backends)
            dimension = dimension or next((int(item.vectors.shape[1]) for item in group), 0)
            self.writer.write(group, indexed)
        self.writer.remove(removed)
        timings["embed"] = time.perf_counter() - clock
        clock = time.perf_counter()
        self.writer.commit(self.new_manifest(made_by, dimension) if made_by else self.writer.manifest, files)
        timings["write"] = time.perf_counter() - clock
        return self.report(len(remaining), added=added, changed=len(to_write) - added, removed=len(removed),
                           embedded=embedded, reused=sum(len(c.passages) for c in chunked) - embedded,
                           warnings=warnings, seconds=timings)

    def _embed(self, chunked: list[ChunkedDocument], indexed: Mapping[str, IndexedDocument],
               written_keys: Collection[str]) -> Iterator[tuple[list[EmbeddedDocument], int]]:
        """Groups of documents with about ``GROUP_PASSAGES`` new passages, each with its vectors,
        and how many passages of the group were embedded now. Vectors the store holds (a folder's
        cache, a collection's points of the earlier version or of a killed build) are reused, and
        new ones are embedded longest first, so each batch pads little."""
        reusable = dict(self.writer.reusable(
            {c.embed_key for item in chunked for c in item.passages},
            [indexed[key].doc_id for key in written_keys if key in indexed] + [item.document.doc_id for item in chunked]))
        total = len({c.embed_key for item in chunked for c in item.passages} - set(reusable))
        if total:
            log.info("embedding %d new passages", total)
        dimension = len(next(iter(reusable.values())).vector) if reusable else None
        with tqdm(total=total, desc="embedding", unit=" passages", disable=not self.progress or not total) as bar:
            group: list[ChunkedDocument] = []
            new: dict[str, ChunkedPassage] = {}
            for number, item in enumerate(chunked):
                group.append(item)
                new.update((c.embed_key, c) for c in item.passages if c.embed_key not in reusable)
                if len(new) < GROUP_PASSAGES and number < len(chunked) - 1:
                    continue
                missing = sorted(new.values(), key=lambda c: len(c.text), reverse=True)
                for batch, vectors, sentences in embed_chunks(self.embedder, missing):
                    keys = [c.embed_key for c in batch]
                    self.writer.keep(keys, vectors, sentences, self.embedder.backend)
                    reusable.update((key, StoredVector(v, s, self.embedder.backend))
                                    for key, v, s in zip(keys, vectors, sentences))
                    bar.update(len(batch))
                dimension = dimension or self.embedder.dimension
                yield [embedded_document(item, reusable, dimension) for item in group], len(new)
                group, new = [], {}


def _file_digests(indexed: Mapping[str, IndexedDocument], loaded: Sequence[Document], removed_keys: Collection[str],
                  read_now: Mapping[str, str]) -> dict[str, str]:
    """sha256 of every file the documents held after the build come from. A file whose documents
    were handed in already loaded (``build``) gets none, so the next build reads it again."""
    digests = {d.path: d.file_digest for key, d in indexed.items() if key not in removed_keys and d.file_digest}
    for document in loaded:
        if read_now.get(document.path):
            digests[document.path] = read_now[document.path]
        else:
            digests.pop(document.path, None)
    return dict(sorted(digests.items()))


def _should_prune(path: str, roots: Sequence[Path]) -> bool:
    file_path = Path(path)
    if not file_path.exists():
        return True
    return any(file_path == root or root in file_path.parents for root in roots)


def make_builder(location: str | Path, settings: Settings | None = None, **options) -> IndexBuilder:
    """The builder for ``location`` (``IndexBuilder``'s options)."""
    return IndexBuilder(location, settings, **options)

