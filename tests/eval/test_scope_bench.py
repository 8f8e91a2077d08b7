"""The scoped-question benchmark (eval/scope_bench.py), at a small size: every case runs, every hit
satisfies its scope (the benchmark asserts it), and the report has a row per scope."""
from eval.scope_bench import SCOPES, report, run
from support import bench_path


def test_a_small_run_times_every_scope_and_reports_a_row_for_each():
    bench_path("scifact", "corpus.jsonl")
    result = run(600, ["Vitamin D lowers the risk of falls.", "Aspirin prevents heart attacks."], "flat", 20)
    assert result["passages"] == 600 and set(result["cases"]) == {text or "(none)" for text in SCOPES}
    for text, case in result["cases"].items():
        assert 0.0 < case["allowed"] <= 1.0 and case["p50_ms"] > 0.0, text
    assert result["cases"]["(none)"]["allowed"] == 1.0 and result["cases"]["format=pdf"]["allowed"] == 0.25
    table = report(result)
    assert table.count("\n| `") == len(SCOPES) and "600 passages" in table
