"""``python -m eval.bench --store qdrant``: the vector database store against the folder store, and
Ray ingest against in-process ingest. Prints numbers, asserts nothing.

1. **Stores at size.** For each size, one process builds both stores from the same passages:
   synthetic vectors drawn around real embeddings (as ``eval.bench`` does), real passage texts for
   BM25. It times the insert, then asks the same SciFact queries of both, interleaved (folder,
   engine, folder, engine...), for hybrid and dense latency. The engine is Qdrant's local mode, in
   process: pure Python, so its numbers say what ``qdrant+local:`` costs, not what a server does.
2. **Ray ingest.** The same real documents (front-matter posts) into a new ``qdrant+local:``
   collection by the in-process builder, by Ray with 1 worker and by Ray with 2, in interleaved
   rounds; Ray starts once, before the rounds, and its start-up is reported apart. From the
   2-worker rate it projects the wall time of 10M passages over N workers, with the arithmetic.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from eval import BENCH

PROJECTED_PASSAGES = 10_000_000
PROJECTED_WORKERS = (8, 32, 128, 512)


def store_child(size: int, pool_path: str, base_path: str, queries: list[str], local_mode_max: int,
                local_mode_queries: int, result_path: str) -> None:
    """The stores at ``size`` passages, in this (fresh) process; writes a JSON result.

    Every store gets the same passages, vectors, BM25 terms and one sentence vector per passage.
    The engine runs as ``qdrant-edge`` (Qdrant's Rust engine in process, if installed) and, up
    to ``local_mode_max`` passages, as the client's pure-Python local mode (``qdrant+local:``)."""
    from eval.synthetic import synthetic_documents
    from index.dense import DenseIndex, build_dense_index, choose_index_type
    from index.embedder import Embedder
    from index.fusion import BM25_WEIGHT, CANDIDATES, DENSE_WEIGHT, RRF_K
    from index.lexical import LexicalIndex
    from index.sentence_vectors import SentenceVectors
    from index.store import IndexStore, Manifest, write_version
    from index.builder import make_builder
    from index.contracts import EmbeddedDocument
    from index.store import EmbeddingRecord
    from index.stores import open_store
    from index.stores.qdrant_sparse import bm25_query
    from ingest.chunker import Chunking
    from qa.retriever import Retriever

    pool = [json.loads(line) for line in open(pool_path, encoding="utf-8")]
    documents, passages, texts, vectors, rng = synthetic_documents(size, pool, np.load(base_path))
    sentences = rng.normal(size=(size, 1, vectors.shape[1])).astype(np.float16)
    embedder = Embedder()
    items = [EmbeddedDocument(documents[n], (passages[n],), (str(n),), (texts[n],), vectors[n:n + 1], (sentences[n],))
             for n in range(size)]
    result: dict = {"passages": size, "insert_s": {}, "queries": len(queries)}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "folder"
        clock = time.perf_counter()
        index_type = choose_index_type(size)
        manifest = Manifest(model=embedder.model_name, dimension=int(vectors.shape[1]), chunking=Chunking(), embedding=EmbeddingRecord(""),
                            dense_index=index_type, passages=size, documents={d.key: d.content_hash for d in documents})
        write_version(folder, manifest, documents, [(p, str(n)) for n, p in enumerate(passages)],
                      DenseIndex(build_dense_index(vectors, index_type)), LexicalIndex.build(texts),
                      SentenceVectors.from_rows(list(sentences), int(vectors.shape[1])))
        result["insert_s"]["folder"] = time.perf_counter() - clock
        result["folder_index"] = index_type
        stores = {"folder": Retriever(IndexStore.open(folder), embedder)}

        location = f"qdrant+local:{Path(scratch) / 'qdrant'}"
        with make_builder(location, progress=False, embedder=embedder) as builder:
            builder.writer.begin(builder.new_manifest, texts[:20000])
            if size <= local_mode_max:
                clock = time.perf_counter()
                for offset in range(0, size, 512):
                    builder.writer.write(items[offset:offset + 512], {})
                result["insert_s"]["qdrant+local"] = time.perf_counter() - clock
            edge = _edge_shard(Path(scratch) / "edge", builder, items, int(vectors.shape[1]), result)
        if size <= local_mode_max:
            stores["qdrant+local"] = Retriever(open_store(location), embedder)

        vectors_of = dict(zip(queries, embedder(queries)))
        weights = (DENSE_WEIGHT, BM25_WEIGHT)

        def edge_search(query: str, mode: str):
            from qdrant_edge import Fusion, Prefetch, Query, QueryRequest, SparseVector

            dense = Query.Nearest(vectors_of[query].tolist(), using="dense")
            terms = bm25_query(query)
            if mode == "dense":
                request = QueryRequest(limit=10, query=dense, with_payload=True)
            else:
                prefetches = [Prefetch(limit=CANDIDATES, query=dense)]
                if terms:
                    prefetches.append(Prefetch(limit=CANDIDATES, query=Query.Nearest(
                        SparseVector(terms.indices, terms.values), using="bm25")))
                request = QueryRequest(limit=10, query=Fusion.Rrf(k=RRF_K, weights=list(weights[:len(prefetches)])),
                                       prefetches=prefetches, with_payload=True)
            return [point.payload["passage_id"] for point in edge.query(request)]

        def folder_or_local(name: str):
            return lambda query, mode: [hit.passage.passage_id for hit in
                                        stores[name](query, k=10, mode=mode, question_vector=vectors_of[query])]

        searches = {name: folder_or_local(name) for name in stores}
        if edge is not None:
            searches["qdrant engine"] = edge_search
        for search in searches.values():
            search(queries[0], "hybrid")
        timings = {(name, mode): [] for name in searches for mode in ("hybrid", "dense")}
        agree = {(name, mode): 0 for name in searches if name != "folder" for mode in ("hybrid", "dense")}
        for number, query in enumerate(queries):
            for mode in ("hybrid", "dense"):
                found = {}
                for name, search in searches.items():
                    if name == "qdrant+local" and number >= local_mode_queries:
                        continue
                    clock = time.perf_counter()
                    found[name] = search(query, mode)
                    timings[name, mode].append(time.perf_counter() - clock)
                for name in found:
                    if name != "folder":
                        agree[name, mode] += len(set(found[name]) & set(found["folder"])) / 10
        if "qdrant+local" in stores:
            stores["qdrant+local"].store.close()
        if edge is not None:
            edge.close()
    result["latency"] = {f"{name} {mode}": {"p50_ms": 1000 * statistics.median(values),
                                            "p95_ms": 1000 * float(np.percentile(values, 95)), "queries": len(values)}
                         for (name, mode), values in timings.items() if values}
    result["median_ratio_over_folder"] = {
        f"{name} {mode}": statistics.median(mine / theirs for mine, theirs in zip(timings[name, mode], timings["folder", mode]))
        for (name, mode) in timings if name != "folder" and timings[name, mode]}
    # Overlap, not equal lists: synthetic passages repeat each real text with a variant tag and
    # cluster tightly around real vectors, so near-ties order the tail of any top 10.
    result["overlap_at_10_with_folder"] = {f"{name} {mode}": total / max(1, len(timings[name, mode]))
                                           for (name, mode), total in agree.items()}
    result["passages_per_s"] = {name: size / seconds for name, seconds in result["insert_s"].items()}
    Path(result_path).write_text(json.dumps(result))


def _edge_shard(folder: Path, builder, items, dimension: int, result: dict):
    """The same points in a ``qdrant-edge`` shard (the engine's own Rust code, in process), or None
    where ``qdrant-edge-py`` is not installed (it is not a docqa dependency)."""
    try:
        from qdrant_edge import (Distance, EdgeConfig, EdgeShard, EdgeSparseVectorParams, EdgeVectorParams, Modifier,
                                 Point, SparseVector, UpdateOperation)
    except ImportError:
        return None
    folder.mkdir()
    shard = EdgeShard.create(str(folder), EdgeConfig(
        vectors={"dense": EdgeVectorParams(size=dimension, distance=Distance.Dot)},
        sparse_vectors={"bm25": EdgeSparseVectorParams(modifier=Modifier.Idf)}))
    clock = time.perf_counter()
    for offset in range(0, len(items), 512):
        points = [point for item in items[offset:offset + 512] for point in builder.writer.points(item)]
        shard.update(UpdateOperation.upsert_points([Point(
            point.id, {name: (SparseVector(v.indices, v.values) if hasattr(v, "indices") else v)
                       for name, v in point.vector.items()}, point.payload) for point in points]))
    result["insert_s"]["qdrant engine (upsert)"] = time.perf_counter() - clock
    shard.optimize()
    result["insert_s"]["qdrant engine"] = time.perf_counter() - clock
    return shard


def stores_at_sizes(sizes: list[int], pool: list[dict], base: np.ndarray, queries: list[str], args) -> list[dict]:
    rows = []
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as scratch:
        pool_path, base_path = Path(scratch) / "pool.jsonl", Path(scratch) / "base.npy"
        pool_path.write_text("\n".join(json.dumps(p) for p in pool))
        np.save(base_path, base)
        print(f"\nstores at size: the folder store (FAISS + bm25s + SQLite), Qdrant's engine in process (qdrant-edge) "
              f"and the client's local mode (qdrant+local:, up to {args.local_mode_max:,} passages, "
              f"{args.local_mode_queries} queries); SciFact queries interleaved, k=10")
        for size in sizes:
            asked = queries if size < 1_000_000 else queries[:args.queries_at_million]
            result_path = Path(scratch) / f"{size}.json"
            child = context.Process(target=store_child, args=(size, str(pool_path), str(base_path), asked,
                                                              args.local_mode_max, args.local_mode_queries, str(result_path)))
            child.start()
            child.join()
            if child.exitcode != 0 or not result_path.exists():
                print(f"  {size:,} passages: failed (exit {child.exitcode})")
                continue
            row = json.loads(result_path.read_text())
            rows.append(row)
            print(f"  {size:,} passages ({len(asked)} queries; folder index {row['folder_index']})")
            for name, seconds in row["insert_s"].items():
                print(f"    insert {name:24} {seconds:8.1f} s  {size / seconds:8.0f} passages/s")
            for name, latency in row["latency"].items():
                ratio = row["median_ratio_over_folder"].get(name)
                overlap = row["overlap_at_10_with_folder"].get(name)
                print(f"    {name:24} p50 {latency['p50_ms']:8.1f} ms  p95 {latency['p95_ms']:8.1f} ms"
                      + (f"  median ratio to folder {ratio:5.2f}  overlap@10 with folder {overlap:.2f}" if ratio else ""),
                      flush=True)
    return rows


def ray_ingest(documents: int, rounds: int) -> dict:
    """In-process against Ray with 1 and 2 workers, on the first ``documents`` front-matter posts."""
    from index.builder import make_builder
    from index.ray_ingest import ray_index, start_ray

    posts = sorted((BENCH / "news_frontmatter").rglob("*.md"))[:documents]
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "posts"
        corpus.mkdir()
        for post in posts:
            (corpus / post.name).write_bytes(post.read_bytes())
        clock = time.perf_counter()
        start_ray(None, progress=False)
        ray_start_s = time.perf_counter() - clock
        runs: dict[str, list[dict]] = {"in-process": [], "ray 1 worker": [], "ray 2 workers": []}
        for number in range(rounds):
            for name in runs:
                slug = name.replace(" ", "-")
                location = f"qdrant+local:{Path(scratch) / f'{slug}-{number}'}"
                clock = time.perf_counter()
                with make_builder(location, progress=False) as builder:
                    if name == "in-process":
                        report = builder([corpus])
                    else:
                        report = ray_index(builder, [corpus], workers=1 if "1" in name else 2)
                seconds = time.perf_counter() - clock
                runs[name].append({"seconds": seconds, "passages": report.passages, "passages_per_s": report.passages / seconds})
                print(f"  round {number + 1} {name:14} {report.passages} passages in {seconds:6.1f}s "
                      f"= {report.passages / seconds:5.1f} passages/s", flush=True)
    summary = {name: {"median_s": statistics.median(r["seconds"] for r in rows),
                      "median_passages_per_s": statistics.median(r["passages_per_s"] for r in rows),
                      "spread_s": [round(r["seconds"], 1) for r in rows]} for name, rows in runs.items()}
    base = summary["in-process"]["median_s"]
    for name in summary:
        summary[name]["overhead_ratio"] = summary[name]["median_s"] / base
    return {"documents": len(posts), "rounds": rounds, "ray_start_s": ray_start_s, "cpus": os.cpu_count(),
            "runs": summary}


def projection(rate_two_workers: float, cpus: int, insert_rate: float | None) -> list[str]:
    """The arithmetic of 10M passages over N one-CPU workers, from the measured 2-worker rate."""
    per_worker = rate_two_workers / 2
    lines = [f"per worker (1 CPU of this {cpus}-CPU machine): {rate_two_workers:.1f} passages/s / 2 = {per_worker:.1f} passages/s"]
    for workers in PROJECTED_WORKERS:
        seconds = PROJECTED_PASSAGES / (workers * per_worker)
        lines.append(f"  {workers:4d} workers: 10,000,000 / ({workers} x {per_worker:.1f}) = {seconds:,.0f} s = {seconds / 3600:.1f} h")
    if insert_rate:
        seconds = PROJECTED_PASSAGES / insert_rate
        lines.append(f"one driver writing at the engine's measured in-process upsert rate, {insert_rate:,.0f} passages/s: "
                     f"10,000,000 / {insert_rate:,.0f} = {seconds:,.0f} s = {seconds / 3600:.1f} h, a floor under every row "
                     "above (a server adds the network; not measured here)")
    return lines


def run(args, queries: list[str], pool: list[dict], base: np.ndarray) -> dict:
    report: dict = {}
    sizes = [int(s) for s in args.store_sizes.split(",") if s]
    report["stores"] = stores_at_sizes(sizes, pool, base, queries, args)
    if args.ray_documents:
        print(f"\nRay ingest: {args.ray_documents} front-matter posts into a new qdrant+local collection, "
              f"{args.ray_rounds} interleaved rounds")
        ray = ray_ingest(args.ray_documents, args.ray_rounds)
        report["ray"] = ray
        print(f"  Ray start-up (once, not in the runs): {ray['ray_start_s']:.1f}s")
        for name, row in ray["runs"].items():
            print(f"  {name:14} median {row['median_s']:6.1f}s  {row['median_passages_per_s']:5.1f} passages/s  "
                  f"x{row['overhead_ratio']:.2f} of in-process  (runs: {row['spread_s']})")
        inserts = [row["passages_per_s"]["qdrant engine (upsert)"] for row in report["stores"]
                   if "qdrant engine (upsert)" in row["passages_per_s"]]
        lines = projection(ray["runs"]["ray 2 workers"]["median_passages_per_s"], ray["cpus"],
                           max(inserts) if inserts else None)
        report["projection"] = lines
        print("\nprojected wall time for 10M passages (embedding bound; Ray start-up and model loads excluded)")
        print("\n".join(f"  {line}" for line in lines))
    return report
