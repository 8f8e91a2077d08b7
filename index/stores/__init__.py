"""Where an index lives, chosen by its location: a folder, or a vector database.

    /path/to/folder                 FAISS + bm25s + SQLite in a folder (the default; ``index.store``)
    qdrant://host:6333/collection   a Qdrant server or cluster (``pip install -e '.[scale]'``)
    qdrant+local:/path/to/folder    Qdrant's local mode, in process: tests and small corpora

Every store answers the same calls (``search``, ``passages``, ``labels``, ``document_summaries`` and
the rest of ``IndexStore``'s reading side) and has a builder with ``IndexBuilder``'s calls, so
``qa``, the UI, the API and the eval run unchanged on any of them. A vector database's module is
imported only when a location names it: the default path never imports its client. Adding an
engine is a module with ``open_store(location)`` and ``Builder``, plus a line in ``ENGINES``.

>>> engine_scheme("qdrant://db.internal:6333/docs"), engine_scheme("qdrant+local:/tmp/q"), engine_scheme("/tmp/index")
('qdrant', 'qdrant+local', None)
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

# Location scheme -> the module that implements it.
ENGINES = {
    "qdrant": "index.stores.qdrant",
    "qdrant+local": "index.stores.qdrant",
}
_SCHEME = re.compile(r"^([a-z][a-z0-9+]*):")


def engine_scheme(location: str | Path) -> str | None:
    """The engine a location names, or None for an index folder."""
    if isinstance(location, Path):
        return None
    match = _SCHEME.match(str(location))
    return match[1] if match and match[1] in ENGINES else None


def is_engine(location: str | Path) -> bool:
    return engine_scheme(location) is not None


def _engine_module(location: str):
    return importlib.import_module(ENGINES[engine_scheme(location)])


def open_store(location: str | Path):
    """The store at ``location``, opened for questions."""
    if is_engine(location):
        return _engine_module(str(location)).open_store(str(location))
    from index.store import IndexStore

    return IndexStore.open(location)


def make_builder(location: str | Path, **options):
    """A builder for ``location`` taking ``IndexBuilder``'s options (an engine ignores the FAISS ones)."""
    if is_engine(location):
        return _engine_module(str(location)).Builder(str(location), **options)
    from index.builder import IndexBuilder

    return IndexBuilder(location, **options)
