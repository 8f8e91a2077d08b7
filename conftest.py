"""Collection set-up for the whole tree.

- The scale-out engine's module is doctested only where its extra is installed
  (``pip install -e '.[scale]'``; the README's test command installs it).
- Every test run gets its own cache folder (``$XDG_CACHE_HOME``, where docqa keeps model exports,
  the default index and the eval's indexes), removed at the end: a run never reads or writes the
  user's ``~/.cache/docqa``, and two runs at once never share a lock. Subprocesses inherit it.
"""
import importlib.util
import os
import shutil
import tempfile

collect_ignore = [] if importlib.util.find_spec("qdrant_client") else ["index/stores/qdrant.py"]


def pytest_configure(config):
    cache = tempfile.mkdtemp(prefix="docqa-test-cache-")
    os.environ["XDG_CACHE_HOME"] = cache
    config.add_cleanup(lambda: shutil.rmtree(cache, ignore_errors=True))
