"""A build killed midway leaves the previous index intact, and the next build resumes."""
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from index import IndexBuilder, IndexStore
from ingest import BUNDLED_CORPUS
from qa import QA
from support import REPO, WIKI_SEED


def _write_extra_documents(folder, count=60):
    folder.mkdir()
    for number in range(count):
        sentences = " ".join(
            f"Report {number} notes that laboratory {number}-{i} measured {number * 7 + i} widgets on day {i}."
            for i in range(40))
        (folder / f"extra_{number:03d}.txt").write_text(f"Field report {number}\n\n{sentences}\n")


@pytest.mark.slow   # builds killed and resumed in subprocesses: about 26 s
def test_killed_build_leaves_the_old_index_usable_and_resumes(seed_index_copy, tmp_path, embedder):
    index_dir = seed_index_copy
    before = IndexStore.open(index_dir)
    old_version, old_count = before.version, before.count_passages()
    extra = tmp_path / "extra"
    _write_extra_documents(extra)

    process = subprocess.Popen(
        [sys.executable, "-m", "qa", "index", str(BUNDLED_CORPUS), str(extra), "--index", str(index_dir)],
        cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, bufsize=1,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen, deadline = "", time.time() + 240
    try:
        while time.time() < deadline:
            chunk = process.stderr.read(64)
            if not chunk:
                break
            seen += chunk
            done = [int(n) for n in re.findall(r"embedding:[^|]*\|[^|]*\| (\d+)/\d+", seen)]
            if done and max(done) >= 64:
                break
        assert process.poll() is None, f"build finished before it could be killed:\n{seen[-500:]}"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()

    after = IndexStore.open(index_dir)
    assert after.version == old_version and after.count_passages() == old_count
    hits = QA(after, embedder).retrieve("When was SenseTime founded?", k=3)
    assert hits[0].citation.source == WIKI_SEED

    report = IndexBuilder(index_dir, progress=False, embedder=embedder)([BUNDLED_CORPUS, extra])
    new_passages = report.passages - old_count
    assert (report.added_documents, report.documents) == (60, 65)
    assert report.embedded <= new_passages - 64, "embeddings committed before the kill are reused"
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".tmp-")]
