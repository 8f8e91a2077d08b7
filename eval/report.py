"""Show an ``EvalReport``: a terminal table, a JSON file and a PNG of Success@k curves."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from eval.runner import EvalReport


def format_table(report: EvalReport, published: dict[str, float] | None = None) -> str:
    metrics = list(report.results[0].metrics)
    header = ["mode", *metrics, "p50 ms", "p95 ms", "time s"]
    rows = [[r.mode, *(f"{r.metrics[m]:.3f}" for m in metrics), f"{r.latency['p50_ms']:.1f}",
             f"{r.latency['p95_ms']:.1f}", f"{r.seconds:.1f}"] for r in report.results]
    if report.floor:
        rows.append(["random", *(f"{report.floor[m]:.3f}" for m in metrics), "", "", ""])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    out = [f"{report.name}: {report.queries} queries", line(header), line(["-" * w for w in widths]), *map(line, rows)]
    if report.floor:
        out.append("random: the mean of 20 rankings drawn at random from the same candidates (the chance floor)")
    out.extend(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}" for key, value in report.extra.items())
    if published:
        out.append("published nDCG@10: " + ", ".join(f"{k} {v:.3f}" for k, v in published.items()))
    return "\n".join(out)


def write_json(report: EvalReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(report), indent=2))


def plot_success_curves(report: EvalReport, path: Path) -> None:
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError("the recall plot needs matplotlib: pip install -e '.[eval]'") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for result in report.results:
        ks = range(1, len(result.success_by_k) + 1)
        axes.plot(ks, result.success_by_k, marker="o" if len(ks) <= 20 else None, markersize=3, label=result.mode)
    axes.set_xlabel("k (passages retrieved)" if "seed" in report.name else "k (documents retrieved)")
    axes.set_ylabel("share of queries with a relevant hit in top k (Success@k)")
    axes.set_title(f"{report.name}: Success@k by retrieval mode")
    axes.set_ylim(0, 1.02)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
