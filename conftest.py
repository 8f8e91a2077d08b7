"""Collection set-up for the whole tree.

- The scale-out engine's module is doctested only where its extra is installed
  (``pip install -e '.[scale]'``; the README's test command installs it).
- Source modules without docstring examples are not imported for doctests, and the Qdrant store's
  and builder's examples (they start Qdrant's local mode and build) are marked slow.
- Every test run gets its own cache folder (``$XDG_CACHE_HOME``, where docqa keeps model exports,
  the default index and the eval's indexes), removed at the end: a run never reads or writes the
  user's ``~/.cache/docqa``, and two runs at once never share a lock. Subprocesses inherit it.
"""
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem

collect_ignore = [] if importlib.util.find_spec("qdrant_client") else ["index/stores/qdrant.py"]


def pytest_configure(config):
    cache = tempfile.mkdtemp(prefix="docqa-test-cache-")
    os.environ["XDG_CACHE_HOME"] = cache
    config.add_cleanup(lambda: shutil.rmtree(cache, ignore_errors=True))



_ROOT = Path(__file__).resolve().parent
# Doctests that start Qdrant's local mode and build into it (10 s): the full run's, not -m "not slow"'s.
_SLOW_DOCTESTS = {"index.stores.qdrant.QdrantStore", "index.stores.qdrant.Builder"}


def pytest_ignore_collect(collection_path, config):
    """A source module without docstring examples gives ``--doctest-modules`` nothing to run, so it is
    not imported at collection: ``qa/mcp_server.py`` alone costs two seconds of it (the MCP SDK).
    Test files are always collected."""
    if collection_path.suffix != ".py" or collection_path.name == "conftest.py" or not collection_path.is_file():
        return None
    if _ROOT / "tests" in collection_path.resolve().parents:
        return None
    return True if ">>>" not in collection_path.read_text(encoding="utf-8", errors="replace") else None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if isinstance(item, DoctestItem) and item.name in _SLOW_DOCTESTS:
            item.add_marker(pytest.mark.slow)
