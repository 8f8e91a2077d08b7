"""The CLI start benchmark (eval/cli_bench.py): real ``qa`` processes timed from outside, and the
table it prints, with a baseline's ratio."""
from eval import cli_bench
from support import REPO


def test_one_round_times_every_command_of_this_checkout_in_a_fresh_process():
    result = cli_bench.run(rounds=1)
    assert {t["command"] for t in result["timings"]} == {"qa stats", "qa ask", "qa ask --index (no refresh)"}
    assert all(t["checkout"] == "this checkout" and len(t["wall_s"]) == 1 and t["median_wall_s"] > 0
               for t in result["timings"])
    assert result["checkouts"] == {"this checkout": str(REPO)}
    assert "cores, flags:" in result["cpu"]


def test_the_table_gives_each_command_its_median_spread_and_ratio_to_the_baseline():
    timing = {"command": "qa stats", "wall_s": (0.5, 0.4, 0.6), "cpu_s": (0.3, 0.3, 0.3), "median_cpu_s": 0.3}
    result = {"rounds": 3, "cpu": "a CPU", "timings": [
        {**timing, "checkout": "baseline", "wall_s": (2.0, 2.2, 1.8), "median_wall_s": 2.0},
        {**timing, "checkout": "this checkout", "median_wall_s": 0.5}]}
    table = cli_bench.report(result)
    assert "3 interleaved rounds" in table and "a CPU" in table
    this_row = table.splitlines()[-1]
    assert "this checkout" in this_row and "0.40-0.60" in this_row and this_row.endswith("4.0x")
