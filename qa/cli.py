"""``qa`` command line: build indexes and ask questions.

Only the standard library is imported at module level: everything heavy loads inside ``main``,
so Ctrl-C at any moment ends with one line, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from importlib.metadata import EntryPoint, entry_points
from typing import Callable

# Control characters other than tab and newline, C1 included (\x9b is a one-byte escape sequence
# introducer): a document must not be able to drive the user's terminal.
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    r"""``text`` without the control characters a terminal would act on.

    >>> terminal_safe("red\x1b[31m alert\x07\tok")
    'red[31m alert\tok'
    """
    return _TERMINAL_UNSAFE.sub("", text)


def _exit_on_swallowed_interrupt(unraisable) -> None:
    """Ctrl-C that lands in a ``__del__`` is "ignored" by Python with a traceback, and the program
    runs on as if it never came; end the run the way Ctrl-C anywhere else ends it."""
    if issubclass(unraisable.exc_type, KeyboardInterrupt):
        print("interrupted", file=sys.stderr, flush=True)
        os._exit(130)
    sys.__unraisablehook__(unraisable)


COMMANDS_GROUP = "docqa.commands"


@dataclass(frozen=True)
class LaterStageCommand:
    """A ``qa`` command that a later stage provides (``pyproject.toml``'s ``docqa.commands`` entry points)."""

    entry_point: EntryPoint
    help: str

    def load(self) -> Callable[[list[str]], int]:
        return self.entry_point.load()


def later_stage_commands() -> dict[str, LaterStageCommand]:
    """``{name: command}`` for every ``docqa.commands`` entry point: ``ui`` and ``eval``.

    >>> sorted(later_stage_commands())
    ['eval', 'ui']
    """
    helps = {"ui": "open the web UI (same as: python ui.py)",
             "eval": "evaluate retrieval and answers (same as: python -m eval)"}
    return {point.name: LaterStageCommand(point, helps.get(point.name, f"run {point.value}"))
            for point in entry_points(group=COMMANDS_GROUP)}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; ``argv`` None means "as a program", with ``sys.argv``."""
    sys.unraisablehook = _exit_on_swallowed_interrupt
    try:
        code = _main(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    if code == 130 and argv is None:
        # CPython 3.11 kills itself with SIGINT at exit, even after the KeyboardInterrupt was handled,
        # when the interrupt passed through C code running Python (an import of a native library):
        # seen once in 30 interrupts. Leave now, with the status and the one line already given.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    return code


def _main(argv: list[str] | None) -> int:
    from index.backends import BackendUnavailable
    from index.embedder import ModelUnavailable
    from index.store import IndexStoreError, is_disk_full
    from qa.retriever import QuestionError

    arguments = sys.argv[1:] if argv is None else list(argv)
    plugins = later_stage_commands()
    if arguments and arguments[0] in plugins:
        return plugins[arguments[0]].load()(arguments[1:])
    args = _parser().parse_args(arguments)
    _log_warnings_to_stderr()
    for noisy in ("faiss", "faiss.loader", "bm25s", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        return args.run(args)
    except (IndexStoreError, ModelUnavailable, BackendUnavailable, QuestionError, ValueError, ImportError) as error:
        if _caused_by_interrupt(error):
            raise KeyboardInterrupt from None
        print(terminal_safe(f"error: {error}"), file=sys.stderr)
        return 2
    except OSError as error:
        if _caused_by_interrupt(error):
            raise KeyboardInterrupt from None
        reason = "no space left on the disk" if is_disk_full(error) else (error.strerror or str(error))
        print(terminal_safe(f"error: {error.filename or 'docqa'}: {reason}"), file=sys.stderr)
        return 2


def _caused_by_interrupt(error: BaseException) -> bool:
    """Whether a Ctrl-C lies behind ``error``: one that lands inside a native library's import or a
    loader that wraps what it catches comes back as an ImportError or a load error, not as itself."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


class _TerminalSafeFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each warning, not at set-up."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _log_warnings_to_stderr() -> None:
    """docqa's warnings (skipped files and the like) as ``warning: ...`` lines on standard error."""
    logger = logging.getLogger("docqa")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(_TerminalSafeFormatter("warning: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)


def _parser() -> argparse.ArgumentParser:
    from index.backends import AUTO, CHOICES
    from index.embedder import DEFAULT_MODEL
    from index.settings import ALLOW_DOWNLOAD_ENV, current_settings
    from qa.retriever import DEFAULT_MODE, MODES

    default_index = current_settings().default_index   # as qa.api.default_index_dir, without importing the QA stage

    backend_help = ("embedding backend (default: %(default)s: OpenVINO when installed, else torch; bf16 where the CPU "
                    "has AMX or AVX-512 BF16, else fp32)")
    download_help = f"let the model come from the Hugging Face hub (also: {ALLOW_DOWNLOAD_ENV}=1); by default only local models load"
    parser = argparse.ArgumentParser(prog="qa", description="Question answering over your documents, with citations.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="build or update an index from files and folders")
    index.add_argument("paths", nargs="*", metavar="PATH", help="files or folders: PDF, web pages, Word, Markdown (with or without front matter), wikitext, plain text, MediaWiki XML dumps")
    index.add_argument("--index", default=str(default_index),
                       help="index folder, or qdrant://HOST:6333/COLLECTION or qdrant+local:PATH (default: %(default)s)")
    index.add_argument("--model", default=None, help=f"sentence-transformers model (default: the index's, else {DEFAULT_MODEL})")
    index.add_argument("--max-tokens", type=int, default=200, help="passage size in model tokens (default: %(default)s)")
    index.add_argument("--overlap", type=int, default=1, help="sentences repeated between passages (default: %(default)s)")
    index.add_argument("--index-type", choices=("auto", "flat", "hnsw"), default="auto", help="FAISS index type (default: by size)")
    index.add_argument("--prune", action="store_true", help="drop documents whose files are gone from the given folders")
    index.add_argument("--rebuild", action="store_true", help="start from scratch instead of updating")
    index.add_argument("--quiet", action="store_true", help="no progress bars")
    index.add_argument("--repair", action="store_true", help="point CURRENT at the newest intact version, then stop")
    index.add_argument("--allow-download", action="store_true", help=download_help)
    index.add_argument("--backend", choices=CHOICES, default=AUTO, help=backend_help)
    index.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                       help="parse, chunk and embed with Ray Data: on this machine, or on the cluster at ADDRESS "
                            "(ray://HOST:10001, or auto); needs a qdrant index and pip install -e '.[scale]'")
    index.add_argument("--ray-workers", type=int, default=None, metavar="N",
                       help="embedding actors, one model each (default: one per CPU)")
    index.set_defaults(run=_index)

    ask = commands.add_parser("ask", help="answer a question with cited passages")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=5, help="passages to return (default: %(default)s)")
    ask.add_argument("--mode", choices=MODES, default=DEFAULT_MODE, help="retrieval mode (default: %(default)s)")
    ask.add_argument("--index", default=None, help="index folder or qdrant location (default: the bundled SenseTime corpus)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--where", action="append", default=[], metavar="CLAUSE",
                     help="answer from the documents this clause allows; repeat for several (all must hold): "
                          "path=docs/*.md, path=notes/, format=pdf, date>=2020-01-01, date<2021, tag=python "
                          "(a front-matter field)")
    ask.add_argument("--allow-download", action="store_true", help=download_help)
    ask.add_argument("--backend", choices=CHOICES, default=AUTO,
                     help="embedding backend for the question (default: the index's own where it runs well here)")
    ask.set_defaults(run=_ask)

    stats = commands.add_parser("stats", help="show what an index holds")
    stats.add_argument("--index", default=None, help="index folder (default: the bundled corpus index)")
    stats.add_argument("--allow-download", action="store_true", help=download_help)
    stats.set_defaults(run=_stats, backend=AUTO)

    check = commands.add_parser("check", help="read every file of an index and compare it with the checksums "
                                              "recorded when it was built")
    check.add_argument("--index", default=str(default_index), help="index folder (default: %(default)s)")
    check.set_defaults(run=_check)

    serve = commands.add_parser("serve", help="serve the REST API (FastAPI; docs at /docs)")
    serve.add_argument("--index", default=None, help="index folder (default: the bundled corpus index)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s, this machine only; "
                                                         "any other needs an API key)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--api-key", default=None, help="key every request must send as X-API-Key (also: $DOCQA_API_KEY)")
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="a Host name to answer besides the loopback ones (repeatable; * for any)")
    serve.add_argument("--max-upload-mb", type=float, default=100, help="larger uploads are refused (default: %(default)s)")
    serve.add_argument("--allow-download", action="store_true", help=download_help)
    serve.add_argument("--backend", choices=CHOICES, default=AUTO, help="embedding backend (default: %(default)s)")
    serve.set_defaults(run=_serve)

    for name, command in sorted(later_stage_commands().items()):
        # Later stages (the UI, the eval) add their commands through the package's entry points, so
        # this stage never imports them; each parses its own options (``qa ui --help``).
        plugin = commands.add_parser(name, help=f"{command.help} (options: qa {name} --help)", add_help=False)
        plugin.add_argument("arguments", nargs=argparse.REMAINDER)

    mcp = commands.add_parser("mcp", help="serve the index to MCP clients (Claude Desktop, IDEs) over stdio")
    mcp.add_argument("--index", default=None, help="index folder or qdrant location (default: the bundled corpus index)")
    mcp.add_argument("--allow-download", action="store_true", help=download_help)
    mcp.add_argument("--backend", choices=CHOICES, default=AUTO, help="embedding backend (default: %(default)s)")
    mcp.set_defaults(run=_mcp)
    return parser


def _serve(args) -> int:
    from qa.server import checked_key

    api_key = checked_key(args.host, args.api_key)   # refused before the model or the index loads
    from qa.api import default_index_dir
    from qa.library import DocumentLibrary
    from qa.server import serve

    library = DocumentLibrary(args.index or default_index_dir(), _open(args), args.max_upload_mb)
    if library.recovery:
        print(f"note: {library.recovery.message()}", file=sys.stderr, flush=True)
    print(f"docqa API on http://{args.host}:{args.port} (OpenAPI docs at /docs); Ctrl-C stops it", flush=True)
    serve(library, args.host, args.port, api_key, tuple(args.allow_host))
    return 0


def _mcp(args) -> int:
    from qa.mcp_server import serve_stdio   # stdout carries the protocol: nothing else may print there

    serve_stdio(_open(args))
    return 0


def _index(args) -> int:
    from index.builder import make_builder
    from index.settings import Settings
    from index.store import repair
    from index.stores import is_engine

    engine = is_engine(args.index)
    if args.repair:
        if engine:
            raise ValueError("--repair mends an index folder; a vector database keeps its own state")
        version = repair(args.index)
        print(f"{args.index}/CURRENT now names {version.name}")
        return 0
    if not args.paths:
        raise ValueError("name at least one file or folder to index (or pass --repair)")
    settings = Settings.from_args(args)   # checks the chunking before the model loads or the folder is claimed
    if args.ray is not None and not engine:
        raise ValueError("--ray writes to a vector database: pass --index qdrant://HOST:6333/NAME or "
                         "--index qdrant+local:PATH (a folder index is built in one process)")
    if args.ray_workers is not None and args.ray_workers < 1:
        raise ValueError(f"--ray-workers must be at least 1, not {args.ray_workers}")
    before = "" if engine else _live_version_name(args.index)
    try:
        with make_builder(args.index, settings, progress=not args.quiet, rebuild=args.rebuild) as builder:
            if args.ray is not None:
                from index.ray_ingest import ray_index

                report = ray_index(builder, args.paths, None if args.ray == "local" else args.ray, args.ray_workers,
                                   prune=args.prune)
            else:
                report = builder(args.paths, prune=args.prune)
    except KeyboardInterrupt:
        if engine:
            print("interrupted; the documents written so far are kept, and one written halfway is written again "
                  "on the next run", file=sys.stderr)
            return 130
        after = _live_version_name(args.index)
        if after and after != before:
            print(f"interrupted after the new version {after} went live: the index is updated", file=sys.stderr)
        else:
            print("interrupted; the index is unchanged (embeddings made so far are kept for the next run)",
                  file=sys.stderr)
        return 130
    print(terminal_safe(report.summary()))
    if report.warnings:
        print(f"{len(report.warnings)} file(s) skipped or read with warnings (see above)", file=sys.stderr)
    return 0


def _live_version_name(index_dir: str) -> str:
    from index.store import IndexStoreError, current_version

    try:
        version = current_version(index_dir)
    except IndexStoreError:
        return ""
    return version.name if version else ""


def _open(args):
    from index.settings import Settings
    from qa.api import QA

    settings = Settings.from_args(args)
    if args.index:
        return QA.open(args.index, settings=settings)
    return QA.default(settings=settings)


def _ask(args) -> int:
    from qa.retriever import check_question

    from qa.api import as_scope

    check_question(args.question)
    scope = as_scope(args.where)     # a bad clause is refused before the index or the model loads
    answer = _open(args).ask(args.question, k=args.k, mode=args.mode, where=scope)
    if scope and not answer.hits:
        print(terminal_safe(f"note: no passage found within --where {scope} (does any indexed document match it?)"),
              file=sys.stderr)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(terminal_safe(format_answer(answer)))
    return 0


def format_answer(answer) -> str:
    """The answer for a terminal: the short answer (or the sentence) on the first line, then the
    sentence and where it is, then the passages by rank. Each citation starts with where to open
    it, as compilers print it (``docs/a.md:12``; a PDF's page, a Word file's paragraph), so a
    terminal or an editor jumps there."""
    lines = []
    if not answer.answered:
        lines += ["Not found in these documents; closest passages:", ""]
        if answer.hint:
            lines[-1:-1] = [answer.hint]
    elif answer.answer_citation:
        c = answer.answer_citation
        lines.append(f"Answer: {' '.join((answer.short or answer.answer).split())}")
        if answer.short:
            lines.append(f"        in: {' '.join(answer.answer.split())}")
        lines.append(f"        {_where(c)} ({c.section or 'lead'}{_span(c)}{', ' + c.url if c.url else ''})")
        lines.append("")
    for hit in answer.hits:
        c = hit.citation
        lines.append(f"[{hit.rank}] {c.title} — {c.section or 'lead'}")
        lines.append(f"    {_where(c)} ({_span(c).lstrip(', ')})" + (f", published {c.published[:10]}" if c.published else ""))
        if c.url:
            lines.append(f"    url: {c.url}")
        lines.extend(textwrap.wrap(hit.passage.text, width=100, initial_indent="    ", subsequent_indent="    "))
        lines.append("")
    return "\n".join(lines).rstrip()


def _where(citation) -> str:
    """``path:line`` (a PDF's page, a Word file's paragraph), the path relative to here when the file is below."""
    path = citation.path
    if path and os.path.isabs(path) and path.startswith(os.getcwd() + os.sep):
        path = os.path.relpath(path)
    return citation.location(path)


def _span(citation) -> str:
    lines = (f", lines {citation.line_start}-{citation.line_end}"
             if citation.line_start is not None and citation.line_end != citation.line_start else "")
    return f"{lines}, chars {citation.clean_start}-{citation.clean_end}"


def _check(args) -> int:
    from index.store import check_index
    from index.stores import is_engine

    if is_engine(args.index):
        raise ValueError("qa check reads an index folder; a vector database checks its own storage")
    version, problems = check_index(args.index)
    for problem in problems:
        print(terminal_safe(f"error: {problem}"), file=sys.stderr)
    if problems:
        return 1
    print(terminal_safe(f"{version}: every file matches its checksum in the manifest"))
    return 0


def _stats(args) -> int:
    stats = _folder_stats(args) or _open(args).stats()
    for field, value in vars(stats).items():
        print(terminal_safe(f"{field:14} {value}"))
    return 0


def _folder_stats(args):
    """``qa stats`` of a folder index read from its manifest and SQLite alone: no model, no FAISS,
    no bm25s, no builder (the bundled corpus's index where its files are unchanged). None where
    that cannot answer (a vector database, a default index to build or refresh first): ``QA`` does."""
    from index.backends import backend_for_index
    from index.embedder import DEFAULT_MODEL
    from index.settings import Settings
    from index.store import IndexCorrupt, IndexStore, current_version, is_built_from
    from index.stores import is_engine
    from ingest import BUNDLED_CORPUS
    from ingest.chunker import Chunking
    from qa.types import IndexStats

    settings = Settings.from_args(args)
    if args.index is None and not is_built_from(settings.default_index, BUNDLED_CORPUS, Chunking(), DEFAULT_MODEL):
        return None
    root = args.index or settings.default_index
    if is_engine(root):
        return None
    version = current_version(root)
    if version is None:
        return None   # QA.open says what to do
    try:
        store = IndexStore(Path(root), version, searchable=False)
    except IndexCorrupt:
        return None   # swapped by a build meanwhile, or damaged: QA.open retries, or says what is wrong
    try:
        return IndexStats.of(store, backend_for_index(store.manifest.embedding.backend, settings.backend))
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
