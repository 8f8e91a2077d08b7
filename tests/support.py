"""Helpers shared by tests (importable because pytest puts tests/ on the path)."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "bench"
WIKI_SEED = "002_73259c55204946b0.txt"


def bench_path(*parts: str) -> Path:
    """A path in ../shared/bench, or a clean skip where that folder is absent."""
    path = BENCH.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/bench is read in place, never copied into the project)")
    return path
