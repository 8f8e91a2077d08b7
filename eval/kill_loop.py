"""Kill ``qa index`` at random moments and check the index after each kill; prints counts, asserts nothing.

    python -m eval.kill_loop --kills 20

Each round adds a fresh batch of generated documents to an index of the bundled corpus and
kills the build with SIGKILL or SIGINT after a random delay (spread over start-up, reading,
embedding and writing). After every kill the index must open, and hold exactly the documents of
the version before the build or of the version after it; a final build must then finish.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from index.store import IndexStore, IndexStoreError
from ingest import BUNDLED_CORPUS

REPO = Path(__file__).resolve().parents[1]


BATCH = 8


def _write_batch(folder: Path, batch: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(BATCH):
        text = " ".join(f"Batch {batch} report {number} logged {batch * 100 + number + i} readings at gauge {i}."
                        for i in range(25))
        (folder / f"batch{batch:02d}_{number}.txt").write_text(f"Batch {batch} report {number}\n\n{text}\n")


def _qa_index(paths: list[Path], index_dir: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qa", "index", *map(str, paths), "--index", str(index_dir), "--quiet"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            # SIGINT as from a terminal, even when this loop itself runs in the background.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _documents(index_dir: Path) -> int:
    store = IndexStore.open(index_dir)
    try:
        return store.count_documents()
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-delay", type=float, default=8.0, help="latest kill, in seconds after start")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    survived = broken = landed = 0
    with tempfile.TemporaryDirectory() as scratch:
        index_dir, docs = Path(scratch) / "index", Path(scratch) / "docs"
        subprocess.run([sys.executable, "-m", "qa", "index", str(BUNDLED_CORPUS), "--index", str(index_dir), "--quiet"],
                       cwd=REPO, check=True, capture_output=True)
        bundled = _documents(index_dir)
        for kill in range(1, args.kills + 1):
            _write_batch(docs, kill)
            before = _documents(index_dir)
            process = _qa_index([BUNDLED_CORPUS, docs], index_dir)
            delay = rng.uniform(0.2, args.max_delay)
            how = rng.choice([signal.SIGKILL, signal.SIGINT])
            time.sleep(delay)
            finished = process.poll() is not None
            process.send_signal(how)
            _, err = process.communicate()
            try:
                after = _documents(index_dir)
                # A build adds every batch written so far, including those of builds killed earlier.
                state = "old" if after == before else "new" if after == bundled + BATCH * kill else f"WRONG ({after})"
                ok = not state.startswith("WRONG") and "Traceback" not in err
            except IndexStoreError as error:
                state, ok = f"BROKEN: {error}", False
            survived += ok
            broken += not ok
            landed += not finished
            print(f"kill {kill:2d}: {signal.Signals(how).name:7} at {delay:5.1f}s{' (already done)' if finished else ''}"
                  f" -> live index is {state}; exit {process.returncode}", flush=True)
        final = _qa_index([BUNDLED_CORPUS, docs], index_dir)
        _, err = final.communicate()
        final_ok = final.returncode == 0 and _documents(index_dir) == bundled + BATCH * args.kills
    print(f"{survived} of {args.kills} kills ({landed} during a build, the rest after it ended) left a complete "
          f"old or new index; {broken} did not; "
          f"final build {'completed with every document' if final_ok else 'FAILED: ' + err[-300:]}")
    return 0 if broken == 0 and final_ok else 1


if __name__ == "__main__":
    sys.exit(main())
