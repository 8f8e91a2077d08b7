"""A Qdrant store whose storage was emptied behind its back (issue #21, item 14): refused in one
clear line, never a silent empty answer. Unreadable files and a busy store (the client's own):
tests/index/stores/test_qdrant_connection.py."""
from __future__ import annotations

import sqlite3
import pytest

pytest.importorskip("qdrant_client", reason="the scale extra: pip install -e '.[scale]'")

from index.store import IndexCorrupt  # noqa: E402
from index.builder import make_builder  # noqa: E402
from index.stores import open_store  # noqa: E402
from ingest import BUNDLED_CORPUS  # noqa: E402
from support import qdrant_passages_file  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_an_emptied_storage_is_refused_on_open_and_on_build(qdrant_store_copy, embedder):
    with sqlite3.connect(qdrant_passages_file(qdrant_store_copy)) as db:
        db.execute("DELETE FROM points")
    with pytest.raises(IndexCorrupt, match="holds 0 passages but its documents record 24.*--rebuild"):
        open_store(f"qdrant+local:{qdrant_store_copy}")
    with pytest.raises(IndexCorrupt, match="damaged"):   # a build would otherwise find "nothing changed"
        make_builder(f"qdrant+local:{qdrant_store_copy}", progress=False, embedder=embedder)
    with make_builder(f"qdrant+local:{qdrant_store_copy}", progress=False, embedder=embedder, rebuild=True) as builder:
        assert builder([BUNDLED_CORPUS]).passages == 24   # --rebuild, as the message says, mends it
    with open_store(f"qdrant+local:{qdrant_store_copy}") as store:
        assert store.count_passages() == 24
