"""Speed and scale benchmark; prints numbers, asserts nothing.

    python -m eval.bench                          # ingest throughput, then 1k / 10k / 100k passages
    python -m eval.bench --sizes 1000 --million   # also FAISS alone on 1M synthetic vectors
    python -m eval.bench --backends               # every embedding backend: speed, cosine, SciFact nDCG@10
    python -m eval.bench --build                  # end-to-end qa index on the bench corpora, no-op rebuild,
                                                  # ask/retrieve latency, and where a build's time goes
    python -m eval.bench --cli --rounds 5         # qa stats / qa ask started afresh (--baseline CHECKOUT: before/after)
    python -m eval.bench --store qdrant           # Qdrant (local mode) against the folder store at 100k and
                                                  # 1M passages, and Ray ingest against in-process ingest

Text comes from ../shared/bench (SciFact, the wikitext dump, the front-matter posts). Embedding
runs at about 25-60 passages/s on 2 cores (by backend), so only ``--embed-sample`` passages are really embedded
(that measures throughput); the sized indexes use synthetic vectors drawn around those real
embeddings, while queries are encoded by the real model. Above the real pool, passages are
repeated with a variant tag so BM25 sees distinct texts. Each size runs in a fresh process so
its peak memory is its own.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from eval import BENCH
from eval.beir import beir_documents, load_beir
from eval.metrics import latency_of, latency_percentiles
from eval.synthetic import synthetic_documents
from index.backends.base import passage_embedding_text
from index.embedder import Embedder
from ingest.chunker import Chunker
from ingest.loader import DocumentLoader

REPO = Path(__file__).resolve().parents[1]



def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6




def overlap_at_10(truth: np.ndarray, found: np.ndarray) -> float:
    """Mean share of the exact top 10 that an approximate search also returned."""
    return float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found)]))


def ingest_pool(embedder: Embedder) -> tuple[list[dict], list[dict]]:
    """Parse and chunk the real corpora; returns passages and per-corpus timings."""
    chunker = Chunker(count_tokens=embedder.count_tokens)
    embedder.count_tokens(["warm up the tokenizer"])
    corpora = [("wikitext dump", lambda: list(DocumentLoader()([BENCH / "wikitext"]))),
               ("news front matter", lambda: list(DocumentLoader()([BENCH / "news_frontmatter"]))),
               ("SciFact corpus", lambda: beir_documents(load_beir(BENCH / "scifact")))]
    pool, stats = [], []
    for name, load in corpora:
        clock = time.perf_counter()
        documents = load()
        parsed = time.perf_counter()
        passages = [(d, p) for d in documents for p in chunker(d)]
        chunked = time.perf_counter()
        pool.extend({"title": d.title, "section": p.section, "text": p.text} for d, p in passages)
        stats.append({"corpus": name, "documents": len(documents), "passages": len(passages),
                      "parse_s": parsed - clock, "chunk_s": chunked - parsed})
    return pool, stats




def child_bench(size: int, index_type: str, pool_path: str, base_path: str, queries: list[str], result_path: str) -> None:
    from index.dense import DenseIndex, build_dense_index
    from index.lexical import LexicalIndex
    from index.store import EmbeddingRecord, IndexStore, Manifest, write_version
    from ingest.chunker import Chunking
    from qa.retriever import Retriever

    pool = [json.loads(line) for line in open(pool_path, encoding="utf-8")]
    documents, bare_passages, texts, vectors, rng = synthetic_documents(size, pool, np.load(base_path))
    passages = [(passage, str(row)) for row, passage in enumerate(bare_passages)]

    clock = time.perf_counter()
    dense = DenseIndex(build_dense_index(vectors, index_type))
    dense_s = time.perf_counter() - clock
    clock = time.perf_counter()
    lexical = LexicalIndex.build(texts)
    bm25_s = time.perf_counter() - clock
    # Sentence vectors as a build stores them: one per sentence of the passage (random here, like the
    # passage vectors above), so the size on disk is a real index's.
    from index.sentence_vectors import SentenceVectors
    from ingest.sentences import split_sentences

    sentences = SentenceVectors.from_rows(
        [rng.normal(size=(len(split_sentences(text)), vectors.shape[1])).astype(np.float16)
         for text in (item[0].text for item in passages)], int(vectors.shape[1]))
    with tempfile.TemporaryDirectory() as folder:
        manifest = Manifest(model="all-MiniLM-L6-v2", dimension=int(vectors.shape[1]), chunking=Chunking(), embedding=EmbeddingRecord(""),
                            dense_index=index_type, passages=size,
                            documents={d.key: d.content_hash for d in documents})
        clock = time.perf_counter()
        write_version(Path(folder), manifest, documents, passages, dense, lexical, sentences)
        write_s = time.perf_counter() - clock
        store = IndexStore.open(folder)
        size_mb = folder_size_mb(store.version)
        embedder = Embedder()
        retriever = Retriever(store, embedder)
        retriever("warm up", k=10)
        latency = {mode: latency_of(queries, lambda query, mode=mode: retriever(query, k=10, mode=mode))
                   for mode in ("dense", "hybrid")}
        latency["query encoding only"] = latency_of(queries, lambda query: embedder([query]))
        recall = None
        if index_type != "flat":
            exact = build_dense_index(vectors, "flat")
            probe = vectors[rng.integers(0, size, 200)] + rng.normal(0, 0.02, (200, vectors.shape[1])).astype(np.float32)
            _, truth = exact.search(probe, 10)
            _, found = store.dense.index.search(probe, 10)
            recall = overlap_at_10(truth, found)
    Path(result_path).write_text(json.dumps({
        "passages": size, "index": index_type, "build_dense_s": dense_s, "build_bm25_s": bm25_s, "write_s": write_s,
        "disk_mb": size_mb, "latency": latency, "recall_at_10_vs_flat": recall, "peak_rss_mb": peak_memory_mb()}))


def faiss_million(count: int, dimension: int = 384) -> list[dict]:
    import faiss

    rng = np.random.default_rng(7)
    centres = rng.normal(size=(2000, dimension)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), count)] + rng.normal(0, 0.6, (count, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[rng.integers(0, count, 200)] + rng.normal(0, 0.05, (200, dimension)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    rows = []
    flat = faiss.IndexFlatIP(dimension)
    clock = time.perf_counter()
    flat.add(vectors)
    build = time.perf_counter() - clock
    truth = flat.search(queries, 10)[1]
    candidates = [("flat", flat, build)]
    clock = time.perf_counter()
    ivf = faiss.index_factory(dimension, "IVF4096,Flat", faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors[rng.integers(0, count, min(count, 200_000))])
    ivf.add(vectors)
    ivf.nprobe = 48
    candidates.append(("IVF4096,Flat nprobe=48", ivf, time.perf_counter() - clock))
    for name, index, build_s in candidates:
        latency = latency_of(queries[:100], lambda query, index=index: index.search(query[None, :], 10))
        rows.append({"index": name, "vectors": count, "build_s": build_s,
                     "recall_at_10_vs_flat": overlap_at_10(truth, index.search(queries, 10)[1]), **latency})
    return rows


def concurrent_latency(qa, questions: list[str], limit: int) -> dict[str, float]:
    """p50/p95 from submission to answer when all ``questions`` arrive at once and at most ``limit``
    run together, as Gradio's queue admits them (``concurrency_limit``)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    gate = threading.Semaphore(limit)
    submitted = time.perf_counter()

    def answer(question: str) -> float:
        with gate:
            qa.ask(question, k=5)
        return time.perf_counter() - submitted

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        timings = list(pool.map(answer, questions))
    return latency_percentiles(timings)


def concurrency_report(rounds: int = 3, count: int = 50) -> dict:
    """Interleaved rounds of ``count`` simultaneous questions over the bundled corpus: one at a
    time (the UI before: Gradio's default limit of 1 and a lock around every question) against
    ``CONCURRENT_QUESTIONS`` at once, the UI's limit now."""
    from eval.seeds import load_seed_questions
    from qa.api import CONCURRENT_QUESTIONS, QA

    qa = QA.default(progress=False)
    questions = [q.question for q in load_seed_questions()][:count]
    qa.ask("warm up", k=5)
    limits = {"serial (before)": 1, f"{CONCURRENT_QUESTIONS} at once (after)": CONCURRENT_QUESTIONS}
    samples: dict[str, list[dict]] = {name: [] for name in limits}
    for _ in range(rounds):
        for name, limit in limits.items():
            samples[name].append(concurrent_latency(qa, questions, limit))
    return {name: {key: float(np.median([r[key] for r in runs])) for key in runs[0]} | {"runs": runs}
            for name, runs in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--hnsw-at", default="100000", help="sizes also measured with an HNSW index")
    parser.add_argument("--embed-sample", type=int, default=256)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--million", action="store_true", help="FAISS alone on 1M synthetic vectors")
    parser.add_argument("--json", type=Path, default=REPO / "eval" / "reports" / "bench.json")
    parser.add_argument("--concurrency", action="store_true",
                        help="only: 50 simultaneous questions, one at a time vs 4 at once (p50/p95)")
    parser.add_argument("--backends", action="store_true",
                        help="only: every embedding backend's speed, cosine to fp32 and SciFact dense nDCG@10")
    parser.add_argument("--no-scifact", action="store_true", help="with --backends: skip the SciFact nDCG@10 column")
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds for --backends and --answers (default: %(default)s)")
    parser.add_argument("--build", action="store_true",
                        help="only: qa index end to end on the bench corpora, a no-op rebuild, ask/retrieve latency, "
                             "and a profile of where a build's time goes")
    parser.add_argument("--answers", action="store_true",
                        help="only: ask against retrieve on the question-set and seed indexes, and what pooling "
                             "sentence vectors adds to embedding")
    parser.add_argument("--backend", default="auto", help="backend for --build and --answers (default: %(default)s)")
    parser.add_argument("--where", action="store_true",
                        help="scoped questions (--where) against unscoped ones at --where-size passages (eval/scope_bench.py)")
    parser.add_argument("--where-size", type=int, default=100_000, help="with --where: passages (default: %(default)s)")
    parser.add_argument("--store", choices=("qdrant",), default=None,
                        help="the vector database store against the folder store, and Ray ingest (eval/scale_bench.py)")
    parser.add_argument("--store-sizes", default="100000,1000000", help="with --store: passages (default: %(default)s)")
    parser.add_argument("--queries-at-million", type=int, default=50, help="with --store: queries at 1M and above")
    parser.add_argument("--local-mode-max", type=int, default=100_000,
                        help="with --store: the largest size also loaded into qdrant+local: (pure Python, slow)")
    parser.add_argument("--local-mode-queries", type=int, default=20, help="with --store: queries asked of qdrant+local:")
    parser.add_argument("--ray-documents", type=int, default=150, help="with --store: posts for the Ray runs (0: none)")
    parser.add_argument("--ray-rounds", type=int, default=3, help="with --store: interleaved rounds of the Ray runs")
    parser.add_argument("--cli", action="store_true",
                        help="only: qa stats and qa ask started afresh, wall and CPU seconds (eval/cli_bench.py)")
    parser.add_argument("--baseline", type=Path, default=None, metavar="CHECKOUT",
                        help="with --cli: another docqa checkout, run interleaved with this one")
    args = parser.parse_args(argv)
    if args.cli:
        from eval import cli_bench

        result = cli_bench.run(args.baseline, args.rounds)
        print(cli_bench.report(result))
        _write_json(args.json.with_name("bench-cli.json"), result)
        return 0
    if args.concurrency:
        result = concurrency_report()
        print(f"50 simultaneous questions over the bundled corpus, median of {len(next(iter(result.values()))['runs'])} interleaved rounds")
        for name, row in result.items():
            spread = [f"{r['p50_ms']:.0f}" for r in row["runs"]]
            print(f"  {name:18} p50 {row['p50_ms']:7.0f} ms  p95 {row['p95_ms']:7.0f} ms   (p50 per round: {', '.join(spread)})")
        return 0
    if not BENCH.exists():
        print(f"error: {BENCH} not found; the benchmark reads ../shared/bench", file=sys.stderr)
        return 2
    queries = [json.loads(line)["text"] for line in open(BENCH / "scifact" / "queries.jsonl", encoding="utf-8")][:args.queries]
    if args.where:
        from eval import scope_bench

        result = scope_bench.run(args.where_size, queries, "auto", args.embed_sample)
        print(scope_bench.report(result))
        _write_json(args.json.with_name("bench-where.json"), result)
        return 0
    if args.backends:
        return _backends(args, queries)
    if args.build:
        return _build(args, queries)
    if args.answers:
        return _answers(args)
    report: dict = {}
    embedder = Embedder()
    pool, ingest = ingest_pool(embedder)
    sample = _embedded(_sample(pool, args.embed_sample))
    embedder(["warm up the model"])
    clock = time.perf_counter()
    base = embedder(sample)
    embed_s = time.perf_counter() - clock
    if args.store:
        from eval import scale_bench

        _write_json(args.json.with_name("bench-store.json"), scale_bench.run(args, queries, pool, base))
        return 0
    report["ingest"] = ingest
    report["embed"] = {"passages": len(sample), "seconds": embed_s, "passages_per_s": len(sample) / embed_s}
    print("ingest (real data)")
    print(f"  {'corpus':18} {'docs':>6} {'passages':>9} {'parse s':>8} {'parse p/s':>10} {'chunk s':>8} {'chunk p/s':>10}")
    for row in ingest:
        print(f"  {row['corpus']:18} {row['documents']:6d} {row['passages']:9d} {row['parse_s']:8.1f} "
              f"{row['passages'] / row['parse_s']:10.0f} {row['chunk_s']:8.1f} {row['passages'] / row['chunk_s']:10.0f}")
    print(f"  embed: {len(sample)} passages in {embed_s:.1f}s = {len(sample) / embed_s:.1f} passages/s "
          f"(all-MiniLM-L6-v2, {embedder.backend})")

    with tempfile.TemporaryDirectory() as scratch:
        pool_path, base_path = Path(scratch) / "pool.jsonl", Path(scratch) / "base.npy"
        pool_path.write_text("\n".join(json.dumps(p) for p in pool))
        np.save(base_path, base)
        runs = [(int(s), "flat") for s in args.sizes.split(",")]
        runs += [(int(s), "hnsw") for s in args.hnsw_at.split(",") if s and s in args.sizes.split(",")]
        report["sizes"] = []
        context = multiprocessing.get_context("spawn")
        print(f"\nindex at size (pool of {len(pool)} real passages; synthetic vectors; {len(queries)} SciFact queries)")
        print(f"  {'passages':>8} {'index':>5} {'dense p50/p95 ms':>17} {'hybrid p50/p95 ms':>18} {'encode p50':>10} "
              f"{'build s':>8} {'disk MB':>8} {'peak MB':>8} {'recall@10':>9}")
        for size, index_type in runs:
            result_path = Path(scratch) / f"{size}-{index_type}.json"
            child = context.Process(target=child_bench, args=(size, index_type, str(pool_path), str(base_path), queries, str(result_path)))
            child.start()
            child.join()
            row = json.loads(result_path.read_text())
            report["sizes"].append(row)
            lat = row["latency"]
            recall = f"{row['recall_at_10_vs_flat']:.3f}" if row["recall_at_10_vs_flat"] is not None else "exact"
            print(f"  {size:8d} {index_type:>5} {lat['dense']['p50_ms']:8.1f}/{lat['dense']['p95_ms']:<8.1f} "
                  f"{lat['hybrid']['p50_ms']:9.1f}/{lat['hybrid']['p95_ms']:<8.1f} {lat['query encoding only']['p50_ms']:10.1f} "
                  f"{row['build_dense_s'] + row['build_bm25_s']:8.1f} {row['disk_mb']:8.1f} {row['peak_rss_mb']:8.0f} {recall:>9}", flush=True)
    if args.million:
        print("\nFAISS alone, 1M synthetic 384-d vectors (200 queries)")
        report["million"] = faiss_million(1_000_000)
        for row in report["million"]:
            print(f"  {row['index']:24} build {row['build_s']:6.1f}s  p50 {row['p50_ms']:6.2f} ms  p95 {row['p95_ms']:6.2f} ms  "
                  f"recall@10 vs flat {row['recall_at_10_vs_flat']:.3f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(f"\nreport: {args.json}")
    return 0


def _sample(pool: list[dict], count: int) -> list[dict]:
    """``count`` passages spread evenly over the pool."""
    return pool[:: max(1, len(pool) // count)][:count]


def _embedded(passages: list[dict]) -> list[str]:
    return [passage_embedding_text(p["title"], p["section"], p["text"]) for p in passages]


def _backends(args, queries: list[str]) -> int:
    from eval.embedding_bench import backend_table, hardware_ceiling, print_backend_table

    embedder = Embedder(backend="torch-fp32")
    pool, _ = ingest_pool(embedder)
    sample = _embedded(_sample(pool, args.embed_sample))
    tokens = [min(len(ids), 256) for ids in embedder.tokenizer(sample)["input_ids"]]
    rows = backend_table(sample, queries[:50], None if args.no_scifact else BENCH / "scifact", args.rounds)
    print_backend_table(rows, sample, tokens)
    ceilings = {size: hardware_ceiling(size, embedder.location) for size in (float(np.mean(tokens)), 200.0)}
    for size, ceiling in ceilings.items():
        rates = ceiling["matmul_gflops"]
        print(f"  ceiling at {size:.0f} tokens ({ceiling['gflop_per_passage']:.2f} GFLOP/passage): matmul fp32 "
              f"{rates['fp32']:.0f} GFLOP/s -> {ceiling['ceiling_passages_per_s']['fp32']:.0f} passages/s, "
              f"bf16 {rates['bf16']:.0f} GFLOP/s -> {ceiling['ceiling_passages_per_s']['bf16']:.0f} passages/s")
    _write_json(args.json.with_name("bench-backends.json"), {"sample": len(sample), "mean_tokens": float(np.mean(tokens)),
                                                           "backends": rows, "ceilings": ceilings})
    return 0


def _answers(args) -> int:
    """``ask`` against ``retrieve`` on the question-set index and the bundled corpus's index, and what
    pooling sentence vectors adds to embedding."""
    from eval.embedding_bench import ask_retrieve_latency, sentence_pooling_overhead
    from eval.questions import load_questions, open_questions_index
    from eval.seeds import load_seed_questions
    from qa.api import QA

    result = {}
    bench_qa = open_questions_index(bench=BENCH, backend=args.backend, progress=False)
    seeds_qa = QA.default(progress=False, backend=args.backend)
    for name, qa, questions in (("questions index (wikitext + news)", bench_qa, [q.question for q in load_questions()]),
                                ("bundled corpus (seeds)", seeds_qa, [q.question for q in load_seed_questions()])):
        latency = ask_retrieve_latency(qa, questions)
        result[name] = {"passages": qa.store.count_passages(), **latency}
        print(f"{name}, {qa.store.count_passages()} passages, {len(questions)} questions interleaved: retrieve p50 "
              f"{latency['retrieve']['p50_ms']:.1f} ms, ask p50 {latency['ask']['p50_ms']:.1f} ms, "
              f"ratio {latency['ask_over_retrieve_p50']:.2f}")
    pool, _ = ingest_pool(bench_qa.embedder)
    chosen = _sample(pool, args.embed_sample)
    overhead = sentence_pooling_overhead(bench_qa.embedder, _embedded(chosen), [p["text"] for p in chosen], args.rounds)
    result["sentence_pooling"] = overhead
    print(f"embedding {overhead['passages']} passages ({overhead['sentences']} sentences) with sentence vectors, "
          f"{overhead['backend']}: {overhead['overhead_ratio_median']:.3f}x the plain time (median of "
          f"{len(overhead['overhead_ratio_rounds'])} interleaved rounds: "
          f"{', '.join(f'{r:.3f}' for r in overhead['overhead_ratio_rounds'])})")
    _write_json(args.json.with_name("bench-answers.json"), result)
    return 0


def _build(args, queries: list[str]) -> int:
    from eval.embedding_bench import build_bench, openvino_op_profile, profile_build

    result = build_bench(BENCH, queries, args.backend)
    print(f"qa index end to end (backend {result['builds'][0]['backend']})")
    print(f"  {'corpus':18} {'docs':>5} {'embedded':>8} {'total s':>8} {'passages/s':>10} {'embed-only p/s':>14}  stages")
    for row in result["builds"]:
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in row["stages"].items())
        print(f"  {row['corpus']:18} {row['documents']:5d} {row['embedded']:8d} {row['seconds']:8.1f} "
              f"{row['passages_per_s']:10.1f} {row['embed_passages_per_s']:14.1f}  {stages}")
    noop = result["noop"]
    print(f"\nno-op qa index of both, {noop['passages']} passages: median {noop['median_s']:.2f}s "
          f"({', '.join(f'{s:.2f}' for s in noop['seconds'])}); new version written: {noop['new_version_written']}")
    latency = result["latency"]
    print(f"ask vs retrieve, {len(queries)} SciFact questions interleaved: retrieve p50 {latency['retrieve']['p50_ms']:.1f} ms, "
          f"ask p50 {latency['ask']['p50_ms']:.1f} ms, ratio {latency['ask_over_retrieve_p50']:.1f}")
    profile = profile_build(BENCH / "news_frontmatter", backend=args.backend)
    result["profile"] = profile
    print(f"\nwhere a build's time goes: {profile['passages']} passages of 60 news posts, {profile['backend']}, "
          f"{profile['seconds']:.1f}s under cProfile (cumulative, parts may nest)")
    for label, seconds in profile["parts"].items():
        if seconds:
            print(f"  {label:44} {seconds:6.2f}s  {100 * seconds / profile['seconds']:5.1f}%")
    texts = _embedded(_sample(ingest_pool(Embedder())[0], 128))
    operations = result["openvino_operations"] = openvino_op_profile(texts)
    total = sum(operations.values())
    print(f"\ninside OpenVINO bf16 inference, {len(texts)} real passages ({total:.2f}s of operations; "
          "FullyConnected are the model's matrix multiplications, Subgraph the fused attention and activations)")
    for name, seconds in list(operations.items())[:6]:
        print(f"  {name:44} {seconds:6.2f}s  {100 * seconds / total:5.1f}%")
    _write_json(args.json.with_name("bench-build.json"), result)
    return 0


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    print(f"\nreport: {path}")


if __name__ == "__main__":
    sys.exit(main())
