"""Helpers shared by tests (importable because pytest puts tests/ on the path)."""
from __future__ import annotations

import signal
from pathlib import Path

import pytest

from eval import BENCH

REPO = Path(__file__).resolve().parents[1]
WIKI_SEED = "002_73259c55204946b0.txt"


def bench_path(*parts: str) -> Path:
    """A path in ../shared/bench, or a clean skip where that folder is absent."""
    path = BENCH.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/bench is read in place, never copied into the project)")
    return path


def restore_sigint() -> None:
    """For ``Popen(preexec_fn=...)``: the child gets Ctrl-C as from a terminal. A shell that starts
    the test run in the background (``pytest &``) leaves SIGINT ignored, children inherit that, and
    Python then installs no KeyboardInterrupt handler: the interrupt tests would test nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
