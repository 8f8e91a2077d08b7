"""``python -m eval.bench --where``: a scoped question (``--where``) against an unscoped one, on the
folder store at 100k passages. Prints numbers, asserts nothing.

The index is synthetic at size as in ``eval.bench``: vectors drawn around real embeddings of SciFact
abstracts, the abstracts' texts for BM25, one sentence vector per passage. Each passage is its own
document, with a path in one of ten folders, a format, a date and a front-matter tag, so the
scopes below allow from 2% to 50% of the passages (one document per passage is the worst case for
resolving a scope: as many documents as passages).

Every query (SciFact's, encoded once beforehand: the times are retrieval only, the ~16 ms of query
encoding come on top of each alike) is asked once per case, in an order rotated per query, so
slow and fast moments of a shared machine fall on every case alike. A scope is resolved to its rows
once and kept (``IndexStore.scope_rows``); that first resolution is timed apart.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from eval import BENCH

SCOPES = ("", "date>=2020", "format=pdf", "path=part3/", "path=part3/ date>=2020", "tag=python")
FORMATS = ("pdf", "markdown", "html", "text")
TAGS = ("python", "rust", "go", "birds", "ml", "law", "chess", "jazz", "sleep", "tax",
        "bones", "rivers", "volcano", "music", "art", "math", "food", "sport", "travel", "film",
        "cars", "trees", "stars", "ships", "bread", "tea", "wine", "maps", "clocks", "glass",
        "paper", "stone", "silk", "salt", "iron", "gold", "wool", "clay", "rice", "corn",
        "fish", "owls", "bees", "ants", "moss", "ferns", "snow", "rain", "wind", "fire")


def scoped_documents(documents):
    """The synthetic documents given a folder, format, date and tag each, all spread evenly."""
    from ingest.types import Field

    return [replace(d, path=f"/bench/part{row % 10}/{row}.md", page="", format=FORMATS[row % 4],
                    published=f"{2015 + (row // 10) % 10}-{1 + row % 12:02d}-01",
                    fields=(Field("tags", TAGS[row % len(TAGS)]),))
            for row, d in enumerate(documents)]


def run(size: int, queries: list[str], index_type: str, embed_sample: int) -> dict:
    from eval.synthetic import synthetic_documents
    from index.dense import DenseIndex, build_dense_index, choose_index_type
    from index.embedder import Embedder
    from index.lexical import LexicalIndex
    from index.scope import Scope
    from index.sentence_vectors import SentenceVectors
    from index.store import EmbeddingRecord, IndexStore, Manifest, write_version
    from ingest.chunker import Chunking
    from qa.retriever import Retriever

    pool = [{"title": r["title"], "section": "", "text": r["text"]}
            for r in map(json.loads, open(BENCH / "scifact" / "corpus.jsonl", encoding="utf-8")) if r["text"].strip()]
    embedder = Embedder()
    sample = pool[:: max(1, len(pool) // embed_sample)][:embed_sample]
    base = embedder([f"{p['title']}\n{p['text']}" for p in sample])
    documents, passages, texts, vectors, rng = synthetic_documents(size, pool, base)
    documents = scoped_documents(documents)
    sentences = rng.normal(size=(size, 1, vectors.shape[1])).astype(np.float16)
    index_type = choose_index_type(size, index_type)
    result: dict = {"passages": size, "index": index_type, "queries": len(queries), "cases": {}}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "folder"
        manifest = Manifest(model=embedder.model_name, dimension=int(vectors.shape[1]), chunking=Chunking(), embedding=EmbeddingRecord(""),
                            dense_index=index_type, passages=size, documents={d.key: d.content_hash for d in documents})
        clock = time.perf_counter()
        write_version(folder, manifest, documents, [(p, str(n)) for n, p in enumerate(passages)],
                      DenseIndex(build_dense_index(vectors, index_type)), LexicalIndex.build(texts),
                      SentenceVectors.from_rows(list(sentences), int(vectors.shape[1])))
        result["build_s"] = time.perf_counter() - clock
        store = IndexStore.open(folder)
        retriever = Retriever(store, embedder)
        scopes = {text: Scope.parse_line(text) for text in SCOPES}
        clock = time.perf_counter()
        store.scope_rows(Scope.parse("path=/"))      # reads every document's scope fields, once per version
        result["load_ms"] = 1000 * (time.perf_counter() - clock)
        for text, scope in scopes.items():
            clock = time.perf_counter()
            rows = store.scope_rows(scope) if scope else np.arange(size)
            result["cases"][text or "(none)"] = {"allowed": len(rows) / size,
                                                 "resolve_ms": 1000 * (time.perf_counter() - clock) if scope else 0.0}
        query_vectors = embedder(queries)
        timings = {text: [] for text in scopes}
        for mode in ("hybrid",):
            for text, scope in scopes.items():     # warm up each case once
                retriever(queries[0], k=5, mode=mode, question_vector=query_vectors[0], scope=scope)
            order = list(scopes)
            for number, (query, vector) in enumerate(zip(queries, query_vectors)):
                for text in order[number % len(order):] + order[:number % len(order)]:
                    clock = time.perf_counter()
                    hits = retriever(query, k=5, mode=mode, question_vector=vector, scope=scopes[text])
                    timings[text].append(time.perf_counter() - clock)
                    assert all(scopes[text].allows(_scoped(documents, hit)) for hit in hits)
        store.close()
    unscoped = timings[""]
    for text, values in timings.items():
        case = result["cases"][text or "(none)"]
        milliseconds = np.array(values) * 1000
        case.update(p50_ms=float(np.median(milliseconds)), p25_ms=float(np.percentile(milliseconds, 25)),
                    p75_ms=float(np.percentile(milliseconds, 75)), p95_ms=float(np.percentile(milliseconds, 95)),
                    ratio_of_medians=statistics.median(values) / statistics.median(unscoped),
                    median_ratio=statistics.median(mine / theirs for mine, theirs in zip(values, unscoped)))
    return result


_BY_ID: dict = {}


def _scoped(documents, hit):
    from index.scope import ScopedDocument

    if not _BY_ID:
        _BY_ID.update({d.doc_id: ScopedDocument(d.doc_id, d.path, d.format, d.published, d.fields) for d in documents})
    return _BY_ID[hit.citation.doc_id]


def report(result: dict) -> str:
    lines = [f"--where at {result['passages']:,} passages ({result['index']} index, {result['queries']} SciFact "
             f"queries, hybrid k=5, retrieval only; build {result['build_s']:.0f} s; the documents' scope fields "
             f"read in {result['load_ms']:.0f} ms on the first scoped question)",
             "| scope | passages allowed | p50 ms | p25-p75 ms | p95 ms | p50 / unscoped p50 | median per-query ratio | "
             "first resolve ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for text, case in result["cases"].items():
        lines.append(f"| `{text}` | {case['allowed']:.0%} | {case['p50_ms']:.1f} | {case['p25_ms']:.1f}-{case['p75_ms']:.1f} | "
                     f"{case['p95_ms']:.1f} | {case['ratio_of_medians']:.2f} | {case['median_ratio']:.2f} | "
                     f"{case['resolve_ms']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--where-size", type=int, default=100_000, help="passages (default: %(default)s)")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--index-type", choices=("auto", "flat", "hnsw"), default="auto")
    parser.add_argument("--embed-sample", type=int, default=256)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    queries = [json.loads(line)["text"] for line in open(BENCH / "scifact" / "queries.jsonl", encoding="utf-8")][:args.queries]
    result = run(args.where_size, queries, args.index_type, args.embed_sample)
    print(report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
