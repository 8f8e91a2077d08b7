"""Where an index lives, chosen by its location: a folder, or a vector database.

    /path/to/folder                 FAISS + bm25s + SQLite in a folder (the default; ``index.store``)
    qdrant://host:6333/collection   a Qdrant server or cluster (``pip install -e '.[scale]'``)
    qdrant+local:/path/to/folder    Qdrant's local mode, in process: tests and small corpora

Every store has a reader (``index.contracts.IndexReader``: ``search``, ``passages``, ``labels``,
``document_summaries``, ...) and a writer (``IndexWriter``) that the one build pipeline
(``index.builder.IndexBuilder``) writes through, so ``qa``, the UI, the API and the eval run
unchanged on any of them. A vector database's modules are imported only when a location names
it: the default path never imports its client. Adding an engine is a reader module with
``open_store(location)``, a writer module with ``open_writer(location, settings, rebuild)``, and a
line in ``ENGINES``.

>>> engine_scheme("qdrant://db.internal:6333/docs"), engine_scheme("qdrant+local:/tmp/q"), engine_scheme("/tmp/index")
('qdrant', 'qdrant+local', None)
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

# Location scheme -> the modules of its reader and its writer.
ENGINES = {
    "qdrant": ("index.stores.qdrant", "index.stores.qdrant_writer"),
    "qdrant+local": ("index.stores.qdrant", "index.stores.qdrant_writer"),
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


def _engine_module(location: str, side: int):
    return importlib.import_module(ENGINES[engine_scheme(location)][side])


def open_store(location: str | Path):
    """The store at ``location``, opened for questions (an ``IndexReader``)."""
    if is_engine(location):
        return _engine_module(str(location), 0).open_store(str(location))
    from index.store import IndexStore

    return IndexStore.open(location)


def open_writer(location: str | Path, settings, rebuild: bool = False):
    """The ``IndexWriter`` of the store at ``location``, for a build with ``settings``."""
    if is_engine(location):
        return _engine_module(str(location), 1).open_writer(str(location), settings, rebuild)
    from index.folder_writer import FolderWriter

    return FolderWriter(Path(location), settings.index_type, rebuild)
