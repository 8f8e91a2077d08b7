"""``qa index PATH... --index qdrant://... --ray [ADDRESS]``: ingest with Ray Data.

The pipeline, each stage as its own users write it:

1. the files to read are listed here, on the driver (names only);
2. ``parse_and_chunk``: Ray tasks (``map_batches``) read, parse and chunk the files; a file whose
   bytes the collection already holds is skipped, and so is a document whose content it holds;
3. ``EmbedPassages``: an actor pool, one model per actor, embeds the passages with the backend
   that suits that worker's CPU (``auto``), pooling sentence vectors in the same pass;
4. the driver writes each document to the store as it arrives (``Builder.write_documents``): one
   client, so the engine's local mode, which locks its folder, works too; a server takes the
   batches as fast as one client sends them.

Nothing here is imported without ``--ray``. Workers need docqa installed (``pip install -e
'.[scale]'`` on every node, or a Ray ``runtime_env``); see docs/scale-out.md.
"""
from __future__ import annotations

import json
import logging
import os
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from index.backends.base import THREADS_ENV
from index.builder import EMBED_BATCH, BuildReport, NothingToIndex
from index.backends.base import passage_embedding_text
from index.cache import embedding_key
from index.embedder import Embedder
from index.sentence_vectors import passage_sentence_spans
from index.stores.qdrant import (
    GROUP_PASSAGES, EmbeddedDocument, document_from_record, document_record, passage_from_payload,
)
from ingest.chunker import Chunker
from ingest.loader import DocumentLoader, iter_files
from ingest.types import IngestWarning

SCALE_HINT = "pip install -e '.[scale]'"
# Documents per task or actor call: small, so one huge file does not hold the others back.
PARSE_BATCH = 2
EMBED_DOCUMENTS = 4
# Passages gathered before the first write of a new collection fixes BM25's average length, and
# before each later write (a killed build embeds at most these again).
FIRST_WRITE_PASSAGES = 2000
_COLUMNS = ("kind", "path", "digest", "key", "document", "passages", "texts", "vectors", "sentences", "counts", "backend", "reason")


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
    context.enable_progress_bars = progress
    context.print_on_execution_start = False
    return ray


_chunkers: dict[tuple, Chunker] = {}


def _chunker(model_name: str, allow_download: bool, max_tokens: int, overlap_sentences: int) -> Chunker:
    """One tokenizer per worker process, loaded on its first task."""
    settings = (model_name, allow_download, max_tokens, overlap_sentences)
    if settings not in _chunkers:
        counter = Embedder(model_name, allow_download=allow_download, backend="torch-fp32")
        _chunkers[settings] = Chunker(max_tokens, overlap_sentences, count_tokens=counter.count_tokens)
    return _chunkers[settings]


def _row(kind: str, path: str, **fields) -> dict:
    return {**{name: "" for name in _COLUMNS}, "kind": kind, "path": path,
            **{name: b"" for name in ("vectors", "sentences", "counts")}, **fields}


def parse_and_chunk(batch: dict, *, model_name: str, allow_download: bool, max_tokens: int, overlap_sentences: int,
                    max_bytes: int, known_files: dict, known_documents: dict) -> dict:
    """Files in, one row per document to embed out, plus rows for what was skipped and why."""
    chunker = _chunker(model_name, allow_download, max_tokens, overlap_sentences)
    rows = []
    for path in batch["path"]:
        loader = DocumentLoader(max_bytes=max_bytes, known_files=known_files)
        documents = list(loader([path]))
        digest = loader.file_digests.get(str(path), "")
        if loader.unchanged_files:
            rows.append(_row("unchanged_file", str(path), digest=digest))
        for warning in loader.warnings:
            rows.append(_row("warning", warning.path, reason=warning.reason))
        for document in documents:
            if known_documents.get(document.key) == document.content_hash:
                rows.append(_row("unchanged_document", document.path, key=document.key, digest=digest))
                continue
            passages = chunker(document)
            texts = [passage_embedding_text(document.title, p.section, p.text) for p in passages]
            rows.append(_row("document", document.path, digest=digest, key=document.key,
                             document=json.dumps(document_record(document), ensure_ascii=False),
                             passages=json.dumps([asdict(p) for p in passages]),
                             texts=json.dumps(texts)))
    return {name: [row[name] for row in rows] for name in _COLUMNS}


class EmbedPassages:
    """A Ray actor: one model, loaded once, embedding the passages of each document row.

    ``threads`` caps the encoder's threads: Ray gives the actor one CPU of a node, and sets
    ``OMP_NUM_THREADS=1``, which OpenVINO does not read and torch reads only at import."""

    def __init__(self, model_name: str, backend: str, allow_download: bool, threads: int):
        if threads:
            os.environ[THREADS_ENV] = str(threads)
        self.embedder = Embedder(model_name, allow_download=allow_download, backend=backend)

    def __call__(self, batch: dict) -> dict:
        rows = {name: list(batch[name]) for name in _COLUMNS}
        for number, kind in enumerate(rows["kind"]):
            if kind != "document":
                continue
            texts = json.loads(rows["texts"][number])
            passages = [passage_from_payload(fields) for fields in json.loads(rows["passages"][number])]
            vectors, sentences = [], []
            for offset in range(0, len(texts), EMBED_BATCH):
                chunk = texts[offset:offset + EMBED_BATCH]
                spans = [passage_sentence_spans(text, passage.text)
                         for text, passage in zip(chunk, passages[offset:offset + EMBED_BATCH])]
                made, pooled = self.embedder.embed_with_spans(chunk, spans)
                vectors.append(made)
                sentences.extend(pooled)
            dimension = self.embedder.dimension
            rows["vectors"][number] = (np.concatenate(vectors) if vectors else np.zeros((0, dimension))).astype(np.float32).tobytes()
            rows["sentences"][number] = b"".join(np.asarray(s, dtype=np.float16).tobytes() for s in sentences)
            rows["counts"][number] = np.array([len(s) for s in sentences], dtype=np.int32).tobytes()
            rows["backend"][number] = self.embedder.backend
        return rows


def _embedded_document(row: dict, dimension: int):
    passages = [passage_from_payload(fields) for fields in json.loads(row["passages"])]
    vectors = np.frombuffer(row["vectors"], dtype=np.float32).reshape(len(passages), dimension)
    counts = np.frombuffer(row["counts"], dtype=np.int32)
    flat = np.frombuffer(row["sentences"], dtype=np.float16).reshape(-1, dimension).astype(np.float32)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    texts = tuple(json.loads(row["texts"]))
    return EmbeddedDocument(document_from_record(json.loads(row["document"])), tuple(passages),
                            tuple(embedding_key(row["model"], text) for text in texts), texts, vectors,
                            tuple(flat[bounds[i]:bounds[i + 1]] for i in range(len(passages))), row["digest"])


def ray_index(builder, paths: Sequence[str | Path], address: str | None = None, workers: int | None = None,
              prune: bool = False, replace_copies: bool = False) -> BuildReport:
    """Build or update ``builder``'s store (a vector database's ``Builder``) with Ray Data.

    Parameters:
        builder: the store's builder (``index.stores.make_builder``); its model, chunking and
            backend are the pipeline's.
        paths: files and folders, readable by every worker (a shared file system on a cluster).
        address: a running cluster (``ray start --head`` prints it; ``auto`` finds a local one);
            None starts Ray on this machine for the run.
        workers: embedding actors (default: one per CPU of this machine when Ray runs locally,
            else one per CPU of the cluster).
        prune, replace_copies: as for ``IndexBuilder``.
    """
    if not hasattr(builder, "write_documents"):
        raise ValueError("--ray writes to a vector database: pass --index qdrant://HOST:6333/NAME or "
                         "--index qdrant+local:PATH (a folder index is built in one process)")
    started = time.perf_counter()
    skipped: list[IngestWarning] = []
    files = [str(path) for path in iter_files(paths, warn=lambda path, reason: skipped.append(IngestWarning(str(path), reason)))]
    indexed = builder.indexed()
    known_documents = {key: d.content_hash for key, d in indexed.items() if d.state == "complete"}
    ray = start_ray(address, builder.progress)
    cpus = int(ray.cluster_resources().get("CPU", 1)) - (0 if address else 1)
    workers = workers or max(1, cpus)
    threads = max(1, (os.cpu_count() or 1) // workers) if not address else 1
    chunking = builder.chunker.settings
    dataset = ray.data.from_items([{"path": path} for path in files], override_num_blocks=max(1, min(len(files), 64)))
    dataset = dataset.map_batches(
        parse_and_chunk, batch_size=PARSE_BATCH, num_cpus=0.5, fn_kwargs=dict(
            model_name=builder.embedder.model_name, allow_download=builder.embedder.allow_download,
            max_tokens=chunking["max_tokens"], overlap_sentences=chunking["overlap_sentences"],
            max_bytes=builder.max_bytes, known_files=builder.known_files(indexed), known_documents=known_documents))
    dataset = dataset.map_batches(
        EmbedPassages, batch_size=EMBED_DOCUMENTS, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1,
        fn_constructor_kwargs=dict(model_name=builder.embedder.model_name, backend=builder.requested_backend,
                                   allow_download=builder.embedder.allow_download, threads=threads))

    seen_keys, seen_hashes, unchanged_files = set(), set(), set()
    held, held_passages = [], 0
    added = changed = embedded = 0
    backends = set()
    bar = tqdm(desc="writing", unit=" docs", disable=not builder.progress)
    try:
        for batch in dataset.iter_batches(batch_size=EMBED_DOCUMENTS, batch_format="numpy"):
            for number in range(len(batch["kind"])):
                row = {name: batch[name][number] for name in _COLUMNS}
                kind, path = str(row["kind"]), str(row["path"])
                if kind == "warning":
                    skipped.append(IngestWarning(path, str(row["reason"])))
                elif kind == "unchanged_file":
                    unchanged_files.add(path)
                elif kind == "unchanged_document":
                    seen_keys.add(str(row["key"]))
                else:
                    document = document_from_record(json.loads(str(row["document"])))
                    seen_keys.add(document.key)
                    seen_hashes.add(document.content_hash)
                    added += document.key not in indexed
                    changed += document.key in indexed
                    backends.add(str(row["backend"]))
                    held.append(row)
                    held_passages += len(json.loads(str(row["texts"])))
                    if held_passages < (FIRST_WRITE_PASSAGES if builder.manifest is None else GROUP_PASSAGES):
                        continue
                    embedded += _write(builder, held, indexed)
                    bar.update(len(held))
                    held, held_passages = [], 0
        embedded += _write(builder, held, indexed)
        bar.update(len(held))
    finally:
        bar.close()
    removed = builder.removals(indexed, seen_keys, seen_hashes, unchanged_files,
                               [Path(p).resolve() for p in paths] if prune else None, replace_copies)
    if builder.manifest is None:
        raise NothingToIndex("no readable documents were found, so no index was written")
    builder.remove_documents(removed)
    remaining = len(set(indexed) - {d.key for d in removed} | seen_keys)
    return builder.report(remaining, added=added, changed=changed, removed=len(removed), embedded=embedded,
                          warnings=skipped, seconds={"ray pipeline": time.perf_counter() - started},
                          written=bool(added or changed or removed), backend=" + ".join(sorted(backends)))


def _write(builder, rows: list[dict], indexed: dict) -> int:
    """Write held document rows; the first write of a new collection makes it from their texts."""
    if not rows:
        return 0
    builder.ensure_collection([text for row in rows for text in json.loads(str(row["texts"]))])
    items = [_embedded_document({**{name: (bytes(value) if name in ("vectors", "sentences", "counts") else str(value))
                                    for name, value in row.items()}, "model": builder.embedder.model_name},
                                builder.manifest.dimension) for row in rows]
    builder.write_documents(items, indexed)
    return sum(len(item.passages) for item in items)
