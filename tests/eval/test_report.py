"""Showing an eval report (eval/report.py): the table, the JSON file and the Success@k plot."""
import json

from eval.report import format_table, plot_success_curves, write_json
from eval.runner import EvalReport, ModeResult

REPORT = EvalReport(
    name="seed questions", queries=3,
    results=(ModeResult("hybrid", {"Success@1": 0.6667, "Success@5": 1.0}, {"p50_ms": 12.34, "p95_ms": 20.0},
                        [0.6667, 1.0], 0.5),
             ModeResult("bm25", {"Success@1": 0.3333, "Success@5": 0.6667}, {"p50_ms": 1.0, "p95_ms": 2.5},
                        [0.3333, 0.6667], 0.1)),
    settings={"model": "all-MiniLM-L6-v2"}, extra={"answer accuracy": 0.5, "passages": 24},
    floor={"Success@1": 0.05, "Success@5": 0.25})


def test_the_table_has_a_row_per_mode_the_chance_floor_and_the_extras():
    lines = format_table(REPORT, published={"bm25": 0.665}).splitlines()
    assert lines[0] == "seed questions: 3 queries"
    assert lines[1].split() == ["mode", "Success@1", "Success@5", "p50", "ms", "p95", "ms", "time", "s"]
    assert lines[3].split() == ["hybrid", "0.667", "1.000", "12.3", "20.0", "0.5"]
    assert lines[5].split() == ["random", "0.050", "0.250"]
    assert "answer accuracy: 0.500" in lines and "passages: 24" in lines
    assert lines[-1] == "published nDCG@10: bm25 0.665"
    assert len({len(line) for line in lines[1:5]}) == 1, "columns line up"


def test_the_json_and_the_plot_are_written_into_new_folders(tmp_path):
    write_json(REPORT, tmp_path / "reports" / "seed.json")
    saved = json.loads((tmp_path / "reports" / "seed.json").read_text())
    assert saved["results"][0]["metrics"]["Success@5"] == 1.0 and saved["floor"]["Success@1"] == 0.05
    plot_success_curves(REPORT, tmp_path / "plots" / "seed.png")
    assert (tmp_path / "plots" / "seed.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
