"""``qa`` command line: build indexes and ask questions."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap

from index.embedder import DEFAULT_MODEL, ModelUnavailable
from index.store import IndexStoreError
from qa.retriever import DEFAULT_MODE, MODES, QuestionError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _log_warnings_to(sys.stderr)
    for noisy in ("faiss", "faiss.loader", "bm25s", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        return args.run(args)
    except (IndexStoreError, ModelUnavailable, QuestionError, ValueError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the index is unchanged", file=sys.stderr)
        return 130


def _log_warnings_to(stream) -> None:
    """docqa's warnings (skipped files and the like) as ``warning: ...`` lines on ``stream``."""
    logger = logging.getLogger("docqa")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)


def _parser() -> argparse.ArgumentParser:
    from qa.api import default_index_dir

    parser = argparse.ArgumentParser(prog="qa", description="Question answering over your documents, with citations.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="build or update an index from files and folders")
    index.add_argument("paths", nargs="+", metavar="PATH", help="files or folders: wikitext, front matter Markdown, text, MediaWiki XML dumps")
    index.add_argument("--index", default=str(default_index_dir()), help="index folder (default: %(default)s)")
    index.add_argument("--model", default=None, help=f"sentence-transformers model (default: the index's, else {DEFAULT_MODEL})")
    index.add_argument("--max-tokens", type=int, default=200, help="passage size in model tokens (default: %(default)s)")
    index.add_argument("--overlap", type=int, default=1, help="sentences repeated between passages (default: %(default)s)")
    index.add_argument("--index-type", choices=("auto", "flat", "hnsw"), default="auto", help="FAISS index type (default: by size)")
    index.add_argument("--prune", action="store_true", help="drop documents whose files are gone from the given folders")
    index.add_argument("--rebuild", action="store_true", help="start from scratch instead of updating")
    index.add_argument("--quiet", action="store_true", help="no progress bars")
    index.set_defaults(run=_index)

    ask = commands.add_parser("ask", help="answer a question with cited passages")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=5, help="passages to return (default: %(default)s)")
    ask.add_argument("--mode", choices=MODES, default=DEFAULT_MODE, help="retrieval mode (default: %(default)s)")
    ask.add_argument("--index", default=None, help="index folder (default: the bundled SenseTime corpus)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.set_defaults(run=_ask)

    stats = commands.add_parser("stats", help="show what an index holds")
    stats.add_argument("--index", default=None, help="index folder (default: the bundled corpus index)")
    stats.set_defaults(run=_stats)

    ui = commands.add_parser("ui", help="open the web UI (same as: python ui.py)")
    ui.add_argument("--index", default=None)
    ui.add_argument("--port", type=int, default=7860)
    ui.set_defaults(run=lambda args: __import__("ui").main(_ui_args(args)))
    return parser


def _ui_args(args) -> list[str]:
    return (["--index", args.index] if args.index else []) + ["--port", str(args.port)]


def _index(args) -> int:
    from index.builder import IndexBuilder

    builder = IndexBuilder(args.index, model_name=args.model, max_tokens=args.max_tokens,
                           overlap_sentences=args.overlap, index_type=args.index_type,
                           progress=not args.quiet, rebuild=args.rebuild)
    report = builder(args.paths, prune=args.prune)
    print(report.summary())
    if report.warnings:
        print(f"{len(report.warnings)} file(s) skipped or read with warnings (see above)", file=sys.stderr)
    return 0


def _open(index_dir: str | None):
    from qa.api import QA

    return QA.open(index_dir) if index_dir else QA.default()


def _ask(args) -> int:
    if not args.question.strip():
        raise QuestionError("the question is empty; type a question about your documents")
    answer = _open(args.index).ask(args.question, k=args.k, mode=args.mode)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(format_answer(answer))
    return 0


def format_answer(answer) -> str:
    lines = []
    if answer.answer_citation:
        c = answer.answer_citation
        lines.append(f"Answer: {answer.answer}")
        lines.append(f"        ({c.source}, {c.section or 'lead'}, chars {c.start}-{c.end}{', ' + c.url if c.url else ''})")
        lines.append("")
    for hit in answer.hits:
        c = hit.citation
        lines.append(f"[{hit.rank}] {c.title} — {c.section or 'lead'}   score {hit.score:.4f}")
        lines.append(f"    source: {c.source}, chars {c.start}-{c.end}" + (f", published {c.published[:10]}" if c.published else ""))
        if c.url:
            lines.append(f"    url: {c.url}")
        lines.extend(textwrap.wrap(hit.passage.text, width=100, initial_indent="    ", subsequent_indent="    "))
        lines.append("")
    return "\n".join(lines).rstrip()


def _stats(args) -> int:
    stats = _open(args.index).stats()
    for field, value in vars(stats).items():
        print(f"{field:12} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
