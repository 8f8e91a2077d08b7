"""``python -m eval questions``, ``seeds``, ``beir PATH``, ``tune`` and ``abstain``: tables, a JSON report and a PNG plot."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from eval import BENCH
from eval.beir import WHOLE_DOCUMENTS
from eval.questions import SPLITS
from eval.report import format_table, plot_success_curves, write_json
from index.backends import AUTO, CHOICES, BackendUnavailable
from index.embedder import ModelUnavailable
from index.settings import Settings
from index.store import IndexStoreError
from ingest.chunker import Chunking
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
    questions = commands.add_parser("questions", parents=[common],
                                    help="the split question set over the bench wikitext and news corpora")
    questions.add_argument("--split", choices=SPLITS, default="test", help="tune on dev, report on test (default: %(default)s)")
    questions.add_argument("--index", default=None,
                           help="an index built from the bench corpora, used as it is (default: the eval's own, "
                                "built or updated first in ~/.cache/docqa/questions)")
    questions.add_argument("--bench", type=Path, default=BENCH, help="the bench data folder (default: %(default)s)")
    questions.add_argument("--max-tokens", type=int, default=Chunking().max_tokens,
                           help="passage size of the eval's own index (default: %(default)s, as qa index)")
    questions.add_argument("--overlap", type=int, default=Chunking().overlap_sentences,
                           help="sentences repeated between passages (default: %(default)s, as qa index)")
    seeds = commands.add_parser("seeds", parents=[common], help="the smoke set over the bundled corpus")
    seeds.add_argument("--index", default=None, help="an index of the bundled corpus, a folder or a qdrant location "
                                                     "(default: the default index)")
    tune = commands.add_parser("tune", parents=[common], help="choose fusion and answer weights on the dev splits")
    tune.add_argument("--bench", type=Path, default=BENCH, help="the bench data folder (default: %(default)s)")
    tune.add_argument("--answers-only", action="store_true",
                      help="keep the fusion weights; choose only the answer weights and the decline threshold")
    tune.add_argument("--folds", type=int, default=0,
                      help="also cross-validate the answer weights inside dev: choose them on all folds but one, "
                           "score the one (folds by gold document; e.g. 5)")
    abstain = commands.add_parser("abstain", parents=[common],
                                  help="the decline rule on the question set's dev split, in-sample and cross-validated")
    abstain.add_argument("--bench", type=Path, default=BENCH, help="the bench data folder (default: %(default)s)")
    beir = commands.add_parser("beir", parents=[common], help="a BEIR-format dataset folder, e.g. ../shared/bench/scifact")
    beir.add_argument("path", type=Path)
    beir.add_argument("--split", default="test")
    beir.add_argument("--model", default=None)
    beir.add_argument("--max-tokens", type=int, default=WHOLE_DOCUMENTS.max_tokens,
                      help="passage size (default: %(default)s, one passage per abstract)")
    beir.add_argument("--overlap", type=int, default=WHOLE_DOCUMENTS.overlap_sentences,
                      help="sentences repeated between passages (default: %(default)s)")
    beir.add_argument("--index", default=None, help="where the dataset's index is built or updated first: a folder, "
                                                    "or qdrant://HOST:6333/NAME or qdrant+local:PATH (default: the "
                                                    "eval's own folder in ~/.cache/docqa/beir)")
    beir.add_argument("--dense-weight", type=float, default=DENSE_WEIGHT, help="hybrid fusion weight (default: %(default)s)")
    beir.add_argument("--bm25-weight", type=float, default=BM25_WEIGHT, help="hybrid fusion weight (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.getLogger("bm25s").setLevel(logging.WARNING)

    try:
        if args.command == "tune":
            from eval.tuning import print_tuning, tune

            print_tuning(tune(args.bench, backend=args.backend, progress=not args.quiet,
                              fusion_weights=not args.answers_only, folds=args.folds), args.out / "tuning.json")
            return 0
        if args.command == "abstain":
            from eval.abstention import abstention_report, collect, print_abstention

            print_abstention(abstention_report(collect(args.bench, backend=args.backend, progress=not args.quiet)),
                             args.out / "abstention.json")
            return 0
        if args.command == "questions":
            from eval.questions import run_question_eval

            report, published = run_question_eval(args.split, args.index, args.bench, args.modes,
                                                  progress=not args.quiet, backend=args.backend,
                                                  settings=Settings.from_args(args)), None
        elif args.command == "seeds":
            from eval.seeds import run_seed_eval

            report, published = run_seed_eval(args.index, args.modes, progress=not args.quiet, backend=args.backend), None
        else:
            from eval.beir import PUBLISHED_NDCG10, run_beir
            from index.embedder import DEFAULT_MODEL

            chunking = Settings.from_args(args).chunking
            report = run_beir(args.path, args.split, args.model or DEFAULT_MODEL, chunking, args.modes,
                              progress=not args.quiet, dense_weight=args.dense_weight, bm25_weight=args.bm25_weight,
                              backend=args.backend, index_dir=args.index)
            published = PUBLISHED_NDCG10.get(args.path.name)
    except (ValueError, OSError, ImportError, IndexStoreError, ModelUnavailable, BackendUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stem = report.name.lower().replace(" ", "-")
    print(format_table(report, published))
    write_json(report, args.out / f"{stem}.json")
    plot_success_curves(report, args.out / f"{stem}-success.png")
    print(f"report: {args.out / (stem + '.json')}, plot: {args.out / (stem + '-success.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
