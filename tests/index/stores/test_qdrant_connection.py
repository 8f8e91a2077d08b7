"""``index.stores.qdrant_connection``: where a collection is, one client per location in a process,
one line naming the file where a local store cannot be read, and a snapshot to read from while
another process holds the store."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("qdrant_client", reason="the scale extra: pip install -e '.[scale]'")

from index.store import BuildInProgress, NotAnIndex  # noqa: E402
from index.stores import open_store  # noqa: E402
from index.stores.qdrant_connection import QdrantLocation, acquire, release  # noqa: E402
from qa.api import QA  # noqa: E402
from support import REPO, qdrant_passages_file  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _stats(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", "stats", "--index", f"qdrant+local:{folder}"], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_locations_parse_to_a_server_or_a_local_folder_and_bad_ones_are_one_line(tmp_path):
    server = QdrantLocation.parse("qdrant://db.internal/papers?https=1&shards=6&replicas=2")
    assert (server.url, server.collection, server.shards, server.replicas) == ("https://db.internal:6333", "papers", 6, 2)
    local = QdrantLocation.parse(f"qdrant+local:{tmp_path}")
    assert local.path == str(tmp_path.resolve()) and local.url is None
    assert server.documents_collection != server.collection
    for bad in ("qdrant://db:6333/", "qdrant://db:6333/a/b", "qdrant://db:6333/x?shards=0", "qdrant://db/x?color=red",
                "qdrant+local:"):
        with pytest.raises(ValueError) as refused:
            QdrantLocation.parse(bad)
        assert "\n" not in str(refused.value)


def test_one_client_per_location_is_shared_until_its_last_holder_releases_it(qdrant_store_copy):
    where = QdrantLocation.parse(f"qdrant+local:{qdrant_store_copy}")
    first = acquire(where)
    second = acquire(where)
    assert second is first, "local mode locks its folder: a second client would be refused"
    release(where)
    assert first.count("docqa", exact=True).count == 24, "still open for its other holder"
    release(where)
    third = acquire(where)
    try:
        assert third is not first and third.count("docqa", exact=True).count == 24
    finally:
        release(where)


def test_a_file_or_a_folder_of_other_files_is_not_taken_for_a_local_store(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(NotAnIndex, match="is a file, not a folder for qdrant\\+local"):
        acquire(QdrantLocation.parse(f"qdrant+local:{tmp_path / 'notes.txt'}"))
    with pytest.raises(NotAnIndex, match="is not empty and is not a Qdrant local store \\(it holds 'notes.txt'\\)"):
        acquire(QdrantLocation.parse(f"qdrant+local:{tmp_path}"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("damage, named", [("random bytes", "storage.sqlite is damaged"),
                                           ("bad meta.json", "meta.json is not valid JSON"),
                                           ("foreign meta.json", "meta.json is not a Qdrant local store's")])
def test_unreadable_storage_is_one_line_naming_the_file(qdrant_store_copy, damage, named):
    if damage == "random bytes":
        qdrant_passages_file(qdrant_store_copy).write_bytes(os.urandom(20000))
    else:
        (qdrant_store_copy / "meta.json").write_text('{"collections": ' if damage == "bad meta.json" else '{"mine": 1}')
    result = _stats(qdrant_store_copy)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert str(qdrant_store_copy) in lines[0] and named in lines[0] and "--rebuild" in lines[0]


def test_a_reader_keeps_reading_while_a_build_holds_the_store(qdrant_store_copy, embedder):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from qdrant_client import QdrantClient
        client = QdrantClient(path={str(qdrant_store_copy)!r})   # holds the folder's lock, as a running build does
        print("holding", flush=True)
        sys.stdin.readline()
        """)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(BuildInProgress, match="is open in another process.*one at a time"):
            acquire(QdrantLocation.parse(f"qdrant+local:{qdrant_store_copy}"))
        qa = QA(open_store(f"qdrant+local:{qdrant_store_copy}"), embedder)
        try:
            assert qa.store.count_documents() == 5 and qa.store.count_passages() == 24
            assert qa.ask("When was SenseTime founded?").short == "October 2014"
        finally:
            qa.close()
    finally:
        holder.communicate("\n", timeout=60)
    leftovers = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("docqa-qdrant-snapshot-*")
                 if p.stat().st_mtime > qdrant_store_copy.stat().st_mtime]
    assert leftovers == []
