"""The Qdrant client: where a collection is (``QdrantLocation``), and one client per location in
a process, shared by its readers and its writer (``acquire``/``release``).

The pool is a process-wide table on purpose: Qdrant's local mode locks its folder, so the UI's
store and an upload's writer in the same process must share one client, or the second is refused.
Its ``atexit`` hook closes what is still open while the interpreter can (a client's own ``__del__``
at exit cannot, and prints a traceback).
"""
from __future__ import annotations

import atexit
import json
import pickle
import shutil
import sqlite3
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

try:
    from qdrant_client import QdrantClient
except ImportError as error:
    raise ImportError("a qdrant:// or qdrant+local: index needs the Qdrant client: pip install -e '.[scale]'") from error

from index.store import BuildInProgress, IndexCorrupt, IndexStoreError, NotAnIndex

LOCAL_COLLECTION = "docqa"
DOCUMENTS_SUFFIX = "-documents"


class EngineUnavailable(IndexStoreError):
    """The engine cannot be reached or refused the call."""


@dataclass(frozen=True)
class QdrantLocation:
    """Where a collection is: ``url`` for a server, ``path`` for local mode.

    >>> QdrantLocation.parse("qdrant://db.internal:6333/papers")
    QdrantLocation(text='qdrant://db.internal:6333/papers', url='http://db.internal:6333', path=None, collection='papers', shards=None, replicas=None)
    >>> QdrantLocation.parse("qdrant://db:6333/papers?https=1&shards=6&replicas=2").url
    'https://db:6333'
    >>> QdrantLocation.parse("qdrant+local:/tmp/q").collection
    'docqa'

    ``shards`` and ``replicas`` (query parameters) apply when docqa creates the collection on a
    cluster; without them the server's defaults do (one shard per node).
    """

    text: str
    url: str | None
    path: str | None
    collection: str
    shards: int | None = None
    replicas: int | None = None

    @classmethod
    def parse(cls, location: str) -> "QdrantLocation":
        if location.startswith("qdrant+local:"):
            path = location[len("qdrant+local:"):]
            if not path:
                raise ValueError("qdrant+local: needs a folder: --index qdrant+local:PATH")
            return cls(location, None, str(Path(path).expanduser().resolve()), LOCAL_COLLECTION)
        parts = urlsplit(location)
        collection = parts.path.strip("/")
        options = dict(parse_qsl(parts.query))
        unknown = set(options) - {"https", "shards", "replicas"}
        numbers = [options.get(name, "1") for name in ("shards", "replicas")]
        if (parts.scheme != "qdrant" or not parts.hostname or not collection or "/" in collection or unknown
                or not all(n.isdigit() and int(n) > 0 for n in numbers)):
            raise ValueError(f"{location!r} is not a Qdrant location; write qdrant://HOST:6333/COLLECTION "
                             "(options: ?https=1&shards=N&replicas=N) or qdrant+local:PATH")
        scheme = "https" if options.get("https") in {"1", "true", "yes"} else "http"
        return cls(location, f"{scheme}://{parts.hostname}:{parts.port or 6333}", None, collection,
                   int(options["shards"]) if "shards" in options else None,
                   int(options["replicas"]) if "replicas" in options else None)

    @property
    def documents_collection(self) -> str:
        return self.collection + DOCUMENTS_SUFFIX


# One client per location in a process: local mode locks its folder, so the UI's store and an
# upload's builder must share it.
_clients: dict[str, list] = {}
_clients_lock = threading.Lock()


def acquire(location: QdrantLocation, api_key: str | None = None) -> QdrantClient:
    with _clients_lock:
        if location.text in _clients:
            _clients[location.text][1] += 1
            return _clients[location.text][0]
        client = _connect(location, api_key)
        _clients[location.text] = [client, 1]
        return client


@atexit.register
def _close_all() -> None:
    """Close what is still open while the interpreter can (a client's own ``__del__`` at exit cannot)."""
    with _clients_lock:
        for client, _ in _clients.values():
            client.close()
        _clients.clear()


def release(location: QdrantLocation) -> None:
    with _clients_lock:
        entry = _clients.get(location.text)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del _clients[location.text]
            entry[0].close()


def _connect(location: QdrantLocation, api_key: str | None) -> QdrantClient:
    if location.path is not None:
        folder = Path(location.path)
        if folder.is_file():
            raise NotAnIndex(f"{folder} is a file, not a folder for qdrant+local")
        if folder.is_dir() and any(folder.iterdir()) and not (folder / "meta.json").exists():
            first = next(folder.iterdir()).name
            raise NotAnIndex(f"{folder} is not empty and is not a Qdrant local store (it holds {first!r}); "
                             "choose a new or empty folder for qdrant+local:")
        try:
            return QdrantClient(path=str(folder))
        except RuntimeError as error:
            if "already accessed" in str(error):
                raise BuildInProgress(f"{folder} is open in another process (a build, the UI or a server); "
                                      "Qdrant's local mode allows one at a time: wait for it, or use a Qdrant server") from None
            raise
        except (ValueError, KeyError, TypeError, AttributeError, sqlite3.DatabaseError, pickle.UnpicklingError,
                EOFError) as error:
            # The local mode reads meta.json and unpickles every point of storage.sqlite on open.
            raise IndexCorrupt(f"{_damaged_local_file(folder, error)}; remove {folder}, then rebuild it: "
                               f"qa index PATH... --index {location.text} --rebuild") from None
    client = QdrantClient(url=location.url, api_key=api_key, timeout=60)
    try:
        client.get_collections()
    except Exception as error:
        client.close()
        raise EngineUnavailable(f"cannot reach Qdrant at {location.url} ({type(error).__name__}: "
                                f"{' '.join(str(error).split())[:120]}); is the server running?") from None
    return client


def snapshot_client(folder: Path) -> tuple[QdrantClient, Path]:
    """A client over a consistent copy of the local store at ``folder``, taken while another process
    (a build) holds it: each collection's SQLite file is copied with SQLite's backup API, which reads
    one committed state, so a reader answers from the last written state instead of being refused.
    Returns the client and the copy's folder, for the caller to close and remove."""
    copy = Path(tempfile.mkdtemp(prefix="docqa-qdrant-snapshot-"))
    try:
        shutil.copy2(folder / "meta.json", copy / "meta.json")
        for storage in folder.glob("collection/*/storage.sqlite"):
            target = copy / "collection" / storage.parent.name / storage.name
            target.parent.mkdir(parents=True)
            with sqlite3.connect(f"file:{storage}?mode=ro", uri=True) as source, sqlite3.connect(target) as copied:
                source.backup(copied)
        return QdrantClient(path=str(copy)), copy
    except BaseException:
        shutil.rmtree(copy, ignore_errors=True)
        raise


def _damaged_local_file(folder: Path, error: Exception) -> str:
    """Which file of a local store the client could not read, and how it is wrong."""
    if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
        return f"{folder / 'meta.json'} is not valid JSON"
    if isinstance(error, (sqlite3.DatabaseError, pickle.UnpicklingError, EOFError)):
        for storage in sorted(folder.rglob("storage.sqlite")):
            try:
                with sqlite3.connect(f"file:{storage}?mode=ro", uri=True) as db:
                    db.execute("SELECT COUNT(*) FROM points").fetchone()
            except sqlite3.DatabaseError:
                return f"{storage} is damaged ({type(error).__name__})"
        return f"a storage.sqlite under {folder} is damaged ({type(error).__name__})"
    return f"{folder / 'meta.json'} is not a Qdrant local store's ({type(error).__name__})"

