"""The eval stage: known-answer question sets, BEIR datasets, metrics, reports and benchmarks."""
from pathlib import Path

# Real data is read in place from ../shared/bench beside the checkout, never copied into it.
BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "bench"
