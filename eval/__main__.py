"""``python -m eval seeds`` and ``python -m eval beir PATH``: tables, a JSON report and a PNG plot."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from eval.report import format_table, plot_recall_curves, write_json
from index.backends import AUTO, CHOICES, BackendUnavailable
from index.embedder import ModelUnavailable
from index.store import IndexStoreError
from qa.retriever import BM25_WEIGHT, DENSE_WEIGHT, MODES


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", type=Path, default=Path("eval/reports"), help="where reports go (default: %(default)s)")
    common.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    common.add_argument("--quiet", action="store_true", help="no progress bars")
    common.add_argument("--backend", choices=CHOICES, default=AUTO,
                        help="embedding backend (default: %(default)s, chosen by the CPU)")
    parser = argparse.ArgumentParser(prog="python -m eval", description="Retrieval evaluation for docqa.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seeds", parents=[common], help="the hand-written questions over the bundled corpus")
    beir = commands.add_parser("beir", parents=[common], help="a BEIR-format dataset folder, e.g. ../shared/bench/scifact")
    beir.add_argument("path", type=Path)
    beir.add_argument("--split", default="test")
    beir.add_argument("--model", default=None)
    beir.add_argument("--max-tokens", type=int, default=512)
    beir.add_argument("--dense-weight", type=float, default=DENSE_WEIGHT, help="hybrid fusion weight (default: %(default)s)")
    beir.add_argument("--bm25-weight", type=float, default=BM25_WEIGHT, help="hybrid fusion weight (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.getLogger("bm25s").setLevel(logging.WARNING)

    try:
        if args.command == "seeds":
            from eval.seeds import run_seed_eval

            report, published = run_seed_eval(modes=args.modes, progress=not args.quiet, backend=args.backend), None
        else:
            from eval.beir import PUBLISHED_NDCG10, run_beir
            from index.embedder import DEFAULT_MODEL

            report = run_beir(args.path, args.split, args.model or DEFAULT_MODEL, args.max_tokens, args.modes,
                              progress=not args.quiet, dense_weight=args.dense_weight, bm25_weight=args.bm25_weight,
                              backend=args.backend)
            published = PUBLISHED_NDCG10.get(args.path.name)
    except (ValueError, OSError, IndexStoreError, ModelUnavailable, BackendUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stem = report.name.lower().replace(" ", "-")
    print(format_table(report, published))
    write_json(report, args.out / f"{stem}.json")
    plot_recall_curves(report, args.out / f"{stem}-recall.png")
    print(f"report: {args.out / (stem + '.json')}, plot: {args.out / (stem + '-recall.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
