"""The speed and scale benchmark's parts (eval/bench.py), run small: recall against exact search,
sizes on disk, and latency under concurrency on a real index."""
import numpy as np

import eval.bench as bench
from index import IndexStore
from qa import QA


def test_overlap_at_10_is_the_mean_share_of_the_exact_top_10_found():
    truth = np.array([list(range(10)), list(range(10, 20))])
    found = np.array([list(range(10)), list(range(15, 25))])
    assert bench.overlap_at_10(truth, found) == 0.75


def test_folder_size_counts_every_file_below_it(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.bin").write_bytes(b"0" * 1_500_000)
    (tmp_path / "y.bin").write_bytes(b"0" * 500_000)
    assert bench.folder_size_mb(tmp_path) == 2.0
    assert bench.peak_memory_mb() > 10


def test_concurrent_questions_are_timed_from_submission(seed_index, embedder):
    qa = QA(IndexStore.open(seed_index), embedder)
    try:
        latency = bench.concurrent_latency(qa, ["When was SenseTime founded?"] * 4, limit=2)
    finally:
        qa.close()
    assert 0 < latency["p50_ms"] <= latency["p95_ms"]


def test_without_the_bench_folder_the_benchmark_says_where_it_looks(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "BENCH", tmp_path / "no-bench")
    assert bench.main(["--json", str(tmp_path / "bench.json")]) == 2
    assert "the benchmark reads ../shared/bench" in capsys.readouterr().err
