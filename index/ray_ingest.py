"""``qa index PATH... --index qdrant://... --ray [ADDRESS]``: ingest with Ray Data.

The pipeline, each stage as its own users write it:

1. the files to read are listed here, on the driver (names only);
2. ``parse_and_chunk``: Ray tasks (``map_batches``) read, parse and chunk the files; a file whose
   bytes the collection already holds is skipped, and so is a document whose content it holds;
3. ``EmbedPassages``: an actor pool, one model per actor, embeds the passages with the backend
   that suits that worker's CPU (``auto``), pooling sentence vectors in the same pass;
4. the driver writes each document to the store as it arrives (the builder's ``IndexWriter``): one
   client, so the engine's local mode, which locks its folder, works too; a server takes the
   batches as fast as one client sends them.

Stages 2 and 3 are the build pipeline's own (``index.builder.chunk_document`` and
``embed_chunks``), and what to drop is its removal rule: Ray only spreads them over workers.

Nothing here is imported without ``--ray``. Workers need docqa installed (``pip install -e
'.[scale]'`` on every node, or a Ray ``runtime_env``); see docs/scale-out.md.
"""
from __future__ import annotations

import logging
import os
import time
import warnings
from pathlib import Path
from typing import Sequence

from tqdm.auto import tqdm

from dataclasses import dataclass, replace
from enum import Enum

import numpy as np

from index.builder import (
    GROUP_PASSAGES, BuildReport, IndexBuilder, NothingToIndex, chunk_document, embed_chunks, embedded_document, removals,
)
from index.contracts import ChunkedDocument, DocumentState, EmbeddedDocument, StoredVector
from index.embedder import Embedder
from index.settings import Settings
from ingest.chunker import Chunker
from ingest.loader import DocumentLoader, iter_files
from ingest.types import IngestWarning, WarningKind

SCALE_HINT = "pip install -e '.[scale]'"
# Documents per task or actor call: small, so one huge file does not hold the others back.
PARSE_BATCH = 2
EMBED_DOCUMENTS = 4
# Passages gathered before the first write of a new collection fixes BM25's average length, and
# before each later write (a killed build embeds at most these again).
FIRST_WRITE_PASSAGES = 2000
ROW = "row"


class RowKind(str, Enum):
    DOCUMENT = "document"                       # chunked, to embed
    EMBEDDED = "embedded"                       # embedded, to write
    WARNING = "warning"
    UNCHANGED_FILE = "unchanged_file"           # its bytes are indexed: not read
    UNCHANGED_DOCUMENT = "unchanged_document"   # its content is indexed: not embedded


@dataclass(frozen=True)
class Row:
    """One row of the pipeline's dataset: a dataset column ``row`` holds these objects whole (Ray
    serialises them between its workers), so no field is encoded into a string and read back."""

    kind: RowKind
    path: str
    digest: str = ""
    key: str = ""
    warning: IngestWarning | None = None
    chunked: ChunkedDocument | None = None
    embedded: EmbeddedDocument | None = None
    backend: str = ""


def _columns(rows: list[Row]) -> dict[str, np.ndarray]:
    column = np.empty(len(rows), dtype=object)
    column[:] = rows
    return {ROW: column}


def _rows(batch: dict) -> list[Row]:
    return list(batch[ROW])


def import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as error:
        raise ImportError(f"--ray needs Ray Data: {SCALE_HINT}") from error
    return ray


def start_ray(address: str | None, progress: bool):
    """Connect to the cluster at ``address``, or start Ray on this machine (``address`` None).

    A local start keeps workers at normal priority (Ray lowers them to nice 15 by default) and
    turns off Ray's memory monitor, which kills actors when the machine as a whole passes 95%.
    """
    ray = import_ray()
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        else:
            os.environ.setdefault("RAY_worker_niceness", "0")
            os.environ.setdefault("RAY_memory_monitor_refresh_ms", "0")
            ray.init(num_cpus=(os.cpu_count() or 1) + 1, include_dashboard=False, log_to_driver=False,
                     logging_level="ERROR")
    if not progress:
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"ray\.data\..*")
    context = ray.data.DataContext.get_current()
    context.enable_fallback_to_arrow_object_ext_type = True   # the ``row`` column's objects, whole
    context.enable_progress_bars = progress
    context.print_on_execution_start = False
    return ray


_chunkers: dict[tuple, Chunker] = {}


def _chunker(model_name: str, settings: Settings) -> Chunker:
    """One tokenizer per worker process, loaded on its first task."""
    key = (model_name, settings)
    if key not in _chunkers:
        counter = Embedder(model_name, settings, backend="torch-fp32")
        _chunkers[key] = Chunker.of(settings.chunking, count_tokens=counter.count_tokens)
    return _chunkers[key]


def parse_and_chunk(batch: dict, *, model_name: str, settings: Settings, known_files: dict,
                    known_documents: dict) -> dict:
    """Files in, one row per document to embed out, plus rows for what was skipped and why."""
    chunker = _chunker(model_name, settings)
    rows: list[Row] = []
    for path in batch["path"]:
        loader = DocumentLoader(max_bytes=settings.max_bytes, known_files=known_files)
        documents = list(loader([path]))
        digest = loader.file_digests.get(str(path), "")
        if loader.unchanged_files:
            rows.append(Row(RowKind.UNCHANGED_FILE, str(path), digest=digest))
        rows.extend(Row(RowKind.WARNING, warning.path, warning=warning) for warning in loader.warnings)
        for document in documents:
            if known_documents.get(document.key) == document.content_hash:
                rows.append(Row(RowKind.UNCHANGED_DOCUMENT, document.path, digest=digest, key=document.key))
                continue
            rows.append(Row(RowKind.DOCUMENT, document.path, digest, document.key,
                            chunked=chunk_document(chunker, model_name, document, digest)))
    return _columns(rows)


class EmbedPassages:
    """A Ray actor: one model, loaded once, embedding the passages of each document row.

    ``threads`` caps the encoder's threads: Ray gives the actor one CPU of a node, and sets
    ``OMP_NUM_THREADS=1``, which OpenVINO does not read and torch reads only at import."""

    def __init__(self, model_name: str, settings: Settings, threads: int):
        self.embedder = Embedder(model_name, replace(settings, embed_threads=threads) if threads else settings)

    def __call__(self, batch: dict) -> dict:
        rows = _rows(batch)
        for number, row in enumerate(rows):
            if row.kind != RowKind.DOCUMENT:
                continue
            backend = self.embedder.backend
            made = {chunk.embed_key: StoredVector(vector, sentences, backend)
                    for chunks, vectors, pooled in embed_chunks(self.embedder, row.chunked.passages)
                    for chunk, vector, sentences in zip(chunks, vectors, pooled)}
            embedded = embedded_document(row.chunked, made, self.embedder.dimension)
            rows[number] = replace(row, kind=RowKind.EMBEDDED, chunked=None, embedded=embedded,
                                   backend=self.embedder.backend)
        return _columns(rows)


def ray_index(builder: IndexBuilder, paths: Sequence[str | Path], address: str | None = None, workers: int | None = None,
              prune: bool = False, replace_copies: bool = False) -> BuildReport:
    """Build or update ``builder``'s store (a vector database, written in place) with Ray Data.

    Parameters:
        builder: the store's builder (``index.builder.make_builder``); its model, settings and
            writer are the pipeline's.
        paths: files and folders, readable by every worker (a shared file system on a cluster).
        address: a running cluster (``ray start --head`` prints it; ``auto`` finds a local one);
            None starts Ray on this machine for the run.
        workers: embedding actors (default: one per CPU of this machine when Ray runs locally,
            else one per CPU of the cluster).
        prune, replace_copies: as for ``IndexBuilder``.
    """
    writer = builder.writer
    if writer.rechunks:
        raise ValueError("--ray writes to a vector database: pass --index qdrant://HOST:6333/NAME or "
                         "--index qdrant+local:PATH (a folder index is built in one process)")
    started = time.perf_counter()
    skipped: list[IngestWarning] = []
    files = [str(path) for path in iter_files(paths, warn=lambda path, reason: skipped.append(IngestWarning(str(path), reason, kind=WarningKind.SKIPPED)))]
    indexed = writer.indexed()
    known_documents = {key: d.content_hash for key, d in indexed.items() if d.state == DocumentState.COMPLETE}
    ray = start_ray(address, builder.progress)
    cpus = int(ray.cluster_resources().get("CPU", 1)) - (0 if address else 1)
    workers = workers or max(1, cpus)
    threads = max(1, (os.cpu_count() or 1) // workers) if not address else 1
    model_name = builder.embedder.model_name
    dataset = ray.data.from_items([{"path": path} for path in files], override_num_blocks=max(1, min(len(files), 64)))
    dataset = dataset.map_batches(
        parse_and_chunk, batch_size=PARSE_BATCH, num_cpus=0.5, fn_kwargs=dict(
            model_name=model_name, settings=builder.settings, known_files=builder.known_files(indexed),
            known_documents=known_documents))
    dataset = dataset.map_batches(
        EmbedPassages, batch_size=EMBED_DOCUMENTS, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1,
        fn_constructor_kwargs=dict(model_name=model_name, settings=builder.settings, threads=threads))

    seen_keys, seen_hashes, unchanged_files = set(), set(), set()
    held: list[EmbeddedDocument] = []
    held_passages = added = changed = embedded = 0
    backends = set()
    bar = tqdm(desc="writing", unit=" docs", disable=not builder.progress)
    try:
        for batch in dataset.iter_batches(batch_size=EMBED_DOCUMENTS, batch_format="numpy"):
            for row in _rows(batch):
                if row.kind == RowKind.WARNING:
                    skipped.append(row.warning)
                elif row.kind == RowKind.UNCHANGED_FILE:
                    unchanged_files.add(row.path)
                elif row.kind == RowKind.UNCHANGED_DOCUMENT:
                    seen_keys.add(row.key)
                else:
                    document = row.embedded.document
                    seen_keys.add(document.key)
                    seen_hashes.add(document.content_hash)
                    added += document.key not in indexed
                    changed += document.key in indexed
                    backends.add(row.backend)
                    held.append(row.embedded)
                    held_passages += len(row.embedded.passages)
                    if held_passages < (FIRST_WRITE_PASSAGES if writer.manifest is None else GROUP_PASSAGES):
                        continue
                    embedded += _write(builder, held, indexed)
                    bar.update(len(held))
                    held, held_passages = [], 0
        embedded += _write(builder, held, indexed)
        bar.update(len(held))
    finally:
        bar.close()
    removed = removals(indexed, seen_keys, seen_hashes, unchanged_files,
                       [Path(p).resolve() for p in paths] if prune else None, replace_copies)
    if writer.manifest is None:
        raise NothingToIndex("no readable documents were found, so no index was written")
    writer.remove(removed)
    remaining = len(set(indexed) - {d.key for d in removed} | seen_keys)
    return builder.report(remaining, added=added, changed=changed, removed=len(removed), embedded=embedded, reused=0,
                          warnings=skipped, seconds={"ray pipeline": time.perf_counter() - started},
                          written=bool(added or changed or removed), backend=" + ".join(sorted(backends)))


def _write(builder: IndexBuilder, items: list[EmbeddedDocument], indexed: dict) -> int:
    """Write held documents; the first write of a new collection makes it from their texts."""
    if not items:
        return 0
    builder.writer.begin(builder.new_manifest, [text for item in items for text in item.texts])
    builder.writer.write(items, indexed)
    return sum(len(item.passages) for item in items)
