"""Embedding backends and whole builds, measured on the real bench data (``python -m eval.bench``).

Speeds are ratios taken in one run, backends interleaved round by round, because this machine is
shared and noisy: the median of the rounds is reported with the spread beside it.
"""
from __future__ import annotations

import cProfile
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from index.backends import BACKENDS, backend_is_installed, choose_backend, detect_cpu
from index.embedder import Embedder

# ``auto`` may only pick a backend this close to fp32 on SciFact dense nDCG@10.
QUALITY_GUARD = 0.005


def backend_table(sample: list[str], questions: list[str], scifact: Path | None, rounds: int = 3,
                  progress: bool = True) -> list[dict]:
    """One row per backend that runs here: passages/s, ratio to torch-fp32, cosine to torch-fp32,
    question-encoding latency and SciFact dense nDCG@10."""
    from eval.metrics import latency_of

    names = [name for name in BACKENDS if backend_is_installed(name)]
    # Exports come from the user's model cache, made once per machine as qa makes them.
    embedders = {name: Embedder(backend=name) for name in names}
    for embedder in embedders.values():
        embedder(sample[:32])  # load, export and warm up outside the timed rounds
    seconds: dict[str, list[float]] = {name: [] for name in names}
    vectors: dict[str, np.ndarray] = {}
    for round_number in range(rounds):
        # Rotate the order so no backend always runs first (cache state, clock boost).
        order = names[round_number % len(names):] + names[:round_number % len(names)]
        for name in order:
            clock = time.perf_counter()
            vectors[name] = embedders[name](sample)
            seconds[name].append(time.perf_counter() - clock)
    latency = {name: latency_of(questions, lambda q, e=embedders[name]: e([q])) for name in names}
    precision = {name: embedders[name].precision for name in names}
    reference = vectors["torch-fp32"]
    rows = []
    for name in names:
        ratios = [base / own for base, own in zip(seconds["torch-fp32"], seconds[name])]
        cosine = np.sum(vectors[name] * reference, axis=1)
        row = {"backend": name, "precision": precision[name],
               "passages_per_s": len(sample) / statistics.median(seconds[name]),
               "passages_per_s_rounds": [len(sample) / s for s in seconds[name]],
               "ratio_to_fp32": statistics.median(ratios), "ratio_rounds": ratios,
               "mean_cosine_to_fp32": float(cosine.mean()), "min_cosine_to_fp32": float(cosine.min()),
               "query_p50_ms": latency[name]["p50_ms"]}
        if scifact is not None:
            from eval.beir import run_beir

            report = run_beir(scifact, "test", modes=("dense",), backend=name, progress=progress)
            row["scifact_dense_ndcg10"] = report.results[0].metrics["nDCG@10"]
        rows.append(row)
    if scifact is not None:
        fp32 = next(r for r in rows if r["backend"] == "torch-fp32")["scifact_dense_ndcg10"]
        for row in rows:
            row["ndcg10_delta"] = row["scifact_dense_ndcg10"] - fp32
            row["within_guard"] = row["ndcg10_delta"] >= -QUALITY_GUARD
    return rows


def print_backend_table(rows: list[dict], sample: list[str], token_counts: list[int]) -> None:
    auto = choose_backend("auto")
    cpu = detect_cpu()
    print(f"embedding backends on this CPU ({cpu.level}; flags from {cpu.source}); {len(sample)} real passages, "
          f"mean {np.mean(token_counts):.0f} tokens; median of {len(rows[0]['ratio_rounds'])} interleaved rounds")
    print(f"  {'backend':14} {'runs in':7} {'passages/s':>10} {'ratio':>6} {'ratio per round':>22} {'cosine':>8} "
          f"{'min cos':>8} {'query ms':>8} {'SciFact nDCG@10':>16} {'delta':>7}")
    for row in rows:
        quality = (f"{row['scifact_dense_ndcg10']:16.4f} {row['ndcg10_delta']:+7.4f}"
                   f"{'' if row['within_guard'] else '  fails the guard'}" if "scifact_dense_ndcg10" in row else "")
        spread = ", ".join(f"{r:.2f}" for r in row["ratio_rounds"])
        print(f"  {row['backend']:14} {row['precision']:7} {row['passages_per_s']:10.1f} {row['ratio_to_fp32']:6.2f} "
              f"{spread:>22} {row['mean_cosine_to_fp32']:8.5f} {row['min_cosine_to_fp32']:8.5f} "
              f"{row['query_p50_ms']:8.1f} {quality}{'   <- auto' if row['backend'] == auto else ''}")


def build_bench(bench: Path, queries: list[str], backend: str = "auto") -> dict:
    """``qa index`` end to end on the wikitext dump, then the news posts added to the same index;
    then a no-op ``qa index`` of both (a fresh process, as a user runs it), and ask/retrieve latency."""
    from index.builder import IndexBuilder
    from index.settings import current_settings
    from index.store import current_version
    from qa.api import QA

    result: dict = {"builds": []}
    with tempfile.TemporaryDirectory() as scratch:
        index_dir = Path(scratch) / "index"
        corpora = [bench / "wikitext", bench / "news_frontmatter"]
        for corpus in corpora:
            clock = time.perf_counter()
            builder = IndexBuilder(index_dir, current_settings(backend=backend), progress=False)
            report = builder([corpus])
            total = time.perf_counter() - clock
            result["builds"].append({
                "corpus": corpus.name, "documents": report.added_documents, "embedded": report.embedded,
                "backend": report.backend, "seconds": total, "stages": report.seconds,
                "passages_per_s": report.embedded / total, "embed_passages_per_s": report.embedded / report.seconds["embed"]})
        live = current_version(index_dir)
        noop = []
        for _ in range(3):
            clock = time.perf_counter()
            subprocess.run([sys.executable, "-m", "qa", "index", *map(str, corpora), "--index", str(index_dir), "--quiet"],
                           check=True, capture_output=True)
            noop.append(time.perf_counter() - clock)
        versions = sorted(p.name for p in index_dir.glob("v-*"))
        qa = QA.open(index_dir)
        result["noop"] = {"passages": qa.store.count_passages(), "seconds": noop, "median_s": statistics.median(noop),
                          "new_version_written": current_version(index_dir) != live or versions != [live.name]}
        result["latency"] = ask_retrieve_latency(qa, queries)
        qa.close()
    return result


def ask_retrieve_latency(qa, queries: list[str]) -> dict:
    """``retrieve`` and ``ask`` on the same questions, interleaved question by question."""
    from eval.metrics import latency_percentiles

    qa.ask("warm up", k=5)
    timings: dict[str, list[float]] = {"retrieve": [], "ask": []}
    for query in queries:
        for name, call in (("retrieve", qa.retrieve), ("ask", qa.ask)):
            clock = time.perf_counter()
            call(query, k=5)
            timings[name].append(time.perf_counter() - clock)
    result = {name: latency_percentiles(values) for name, values in timings.items()}
    result["ask_over_retrieve_p50"] = result["ask"]["p50_ms"] / result["retrieve"]["p50_ms"]
    return result


def sentence_pooling_overhead(embedder, texts: list[str], passage_texts: list[str], rounds: int = 5) -> dict:
    """What pooling sentence vectors in the embedding pass costs a build: the same passages embedded
    plainly and with their sentence spans, interleaved round by round (order alternated)."""
    from index.sentence_vectors import passage_sentence_spans

    spans = [passage_sentence_spans(text, passage) for text, passage in zip(texts, passage_texts)]
    embedder.embed_with_spans(texts[:32], spans[:32])  # warm up outside the timed rounds
    seconds: dict[str, list[float]] = {"plain": [], "with sentences": []}
    for round_number in range(rounds):
        calls = [("plain", lambda: embedder(texts)), ("with sentences", lambda: embedder.embed_with_spans(texts, spans))]
        for name, call in calls if round_number % 2 == 0 else calls[::-1]:
            clock = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - clock)
    ratios = [with_sentences / plain for plain, with_sentences in zip(seconds["plain"], seconds["with sentences"])]
    return {"passages": len(texts), "backend": embedder.backend, "seconds": seconds,
            "sentences": sum(len(s) for s in spans), "overhead_ratio_median": statistics.median(ratios),
            "overhead_ratio_rounds": ratios}


# Where a build's time goes: (label, file fragment, function name), by cumulative time.
_PROFILE_PARTS = (
    ("tokenising for the model", "tokenization_utils", "__call__"),
    ("model inference (OpenVINO)", "openvino/_ov_api.py", "infer"),
    ("model inference (torch)", "sentence_transformers/base/model.py", "forward"),
    ("pooling and normalising", "openvino_encoder", "_pool"),
    ("embedding cache writes", "index/cache.py", "put_many"),
    ("chunking (sentence split, token counts)", "ingest/chunker.py", "__call__"),
    ("token counting inside chunking", "index/embedder.py", "count_tokens"),
    ("writing the version (FAISS, BM25, SQLite)", "index/store.py", "write_version"),
)


def profile_build(folder: Path, files: int = 60, backend: str = "auto") -> dict:
    """cProfile one build of ``files`` news posts and split its time into the parts above."""
    from index.builder import IndexBuilder
    from index.settings import current_settings

    with tempfile.TemporaryDirectory() as scratch:
        sources = Path(scratch) / "docs"
        sources.mkdir()
        for path in sorted(folder.rglob("*.md"))[:files]:
            shutil.copy(path, sources / path.name)
        builder = IndexBuilder(Path(scratch) / "index", current_settings(backend=backend), progress=False)
        builder.embedder(["load the model before the clock starts"])
        builder.embedder.count_tokens(["and the tokenizer"])
        profiler = cProfile.Profile()
        clock = time.perf_counter()
        profiler.enable()
        report = builder([sources])
        profiler.disable()
        total = time.perf_counter() - clock
    stats = pstats.Stats(profiler).stats
    parts = {}
    for label, fragment, function in _PROFILE_PARTS:
        parts[label] = sum(cumulative for (file, _, name), (_, _, _, cumulative, _) in stats.items()
                           if name == function and fragment in file)
    return {"passages": report.passages, "backend": report.backend, "seconds": total, "parts": parts}


def hardware_ceiling(mean_tokens: float, location: str) -> dict:
    """The most passages/s the matrix units allow: the model's FLOPs per passage of ``mean_tokens``
    against the best matmul rate torch reaches here in fp32 and bf16, at the model's own shapes."""
    import json as json_module

    import torch

    config = json_module.loads((Path(location) / "config.json").read_text())
    hidden, inner, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    per_token = layers * 2 * (4 * hidden * hidden + 2 * hidden * inner)     # projections and feed-forward
    attention = layers * 4 * mean_tokens * mean_tokens * hidden             # QK^T and AV
    flops = per_token * mean_tokens + attention
    rates = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        tokens = torch.randn(64 * int(mean_tokens), hidden, dtype=dtype)
        weights = torch.randn(hidden, inner, dtype=dtype)
        best = float("inf")
        for _ in range(12):
            clock = time.perf_counter()
            tokens @ weights
            best = min(best, time.perf_counter() - clock)
        rates[name] = 2 * tokens.shape[0] * hidden * inner / best
    return {"gflop_per_passage": flops / 1e9, "matmul_gflops": {k: v / 1e9 for k, v in rates.items()},
            "ceiling_passages_per_s": {k: v / flops for k, v in rates.items()}}


def openvino_op_profile(texts: list[str], batch_size: int = 32) -> dict[str, float]:
    """Seconds per kind of OpenVINO operation while the bf16 export embeds ``texts``: how much of
    inference is the model's matrix multiplications and how much everything around them."""
    import openvino

    from index.backends.openvino_encoder import EXPORT_FILE, OpenVinoEncoder
    from index.embedder import resolve_model

    with tempfile.TemporaryDirectory() as exports:
        encoder = OpenVinoEncoder(resolve_model("all-MiniLM-L6-v2"), exports, precision="bf16")
        model = openvino.Core().compile_model(str(encoder.export_dir / EXPORT_FILE), "CPU", {
            "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "bf16", "PERF_COUNT": True})
        request = model.create_infer_request()
        seconds: dict[str, float] = {}
        ordered = sorted(texts, key=len, reverse=True)
        for offset in range(0, len(ordered), batch_size):
            encoded = encoder._tokenize(ordered, list(range(offset, min(offset + batch_size, len(ordered)))))
            request.infer(encoder._inputs(encoded))
            for node in request.get_profiling_info():
                seconds[node.node_type] = seconds.get(node.node_type, 0.0) + node.real_time.total_seconds()
    return dict(sorted(seconds.items(), key=lambda item: -item[1]))
