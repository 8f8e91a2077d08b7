"""One frozen ``Settings``: what a build or a question needs to know of its configuration.

It is built once, from the command line's flags, the environment and the defaults, in this
module only (``Settings.from_environment``, ``Settings.from_args``), and passed as one object:
to the builder, the embedder and Ray's workers. No other module reads the environment for it.
A build records what shaped the index (``Settings.record``) in the manifest.

>>> settings = Settings.from_environment({"DOCQA_ALLOW_DOWNLOAD": "1", "XDG_CACHE_HOME": "/tmp/c"})
>>> settings.allow_download, settings.cache_dir
(True, PosixPath('/tmp/c/docqa'))
>>> Settings(chunking=Chunking(max_tokens=120)).record().chunking.max_tokens
120
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from index.backends import AUTO
from ingest.chunker import Chunking
from ingest.reader import DEFAULT_MAX_BYTES

ALLOW_DOWNLOAD_ENV = "DOCQA_ALLOW_DOWNLOAD"
INDEX_ENV = "DOCQA_INDEX"
QDRANT_API_KEY_ENV = "QDRANT_API_KEY"
API_KEY_ENV = "DOCQA_API_KEY"
# Threads an encoder may use (unset: all the cores its library sees). A Ray actor given one CPU of a
# node is given a share, so that two actors on one machine do not each spin up a thread per core.
THREADS_ENV = "DOCQA_EMBED_THREADS"
_TRUE = {"1", "true", "yes"}


def _cache_dir(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "docqa"


@dataclass(frozen=True)
class RecordedSettings:
    """The part of ``Settings`` that shaped an index, as its manifest keeps it (no secrets, no paths
    of this machine)."""

    model: str
    backend: str
    chunking: Chunking
    max_bytes: int
    index_type: str

    @classmethod
    def from_dict(cls, data: Mapping) -> "RecordedSettings":
        return cls(**{**data, "chunking": Chunking.from_dict(data["chunking"])})


@dataclass(frozen=True)
class Settings:
    """The configuration of a build or a session.

    Parameters:
        model: the embedding model; None: the index's own, else ``index.embedder.DEFAULT_MODEL``.
        backend: ``auto`` or a backend's name (``index.backends``).
        allow_download: let a model that is neither bundled nor a local folder come from the hub.
        chunking: passage size and overlap.
        max_bytes: the largest file a build reads.
        index_type: the folder store's FAISS index (``auto``, ``flat``, ``hnsw``).
        cache_dir: where model exports, the default index and the eval's indexes go.
        default_index: the index ``qa`` opens when none is named.
        embed_threads: threads an encoder may use (0: all the cores its library sees).
        api_key: the key ``qa serve`` and the UI ask for.
        qdrant_api_key: sent to a Qdrant server.
    """

    model: str | None = None
    backend: str = AUTO
    allow_download: bool = False
    chunking: Chunking = Chunking()
    max_bytes: int = DEFAULT_MAX_BYTES
    index_type: str = "auto"
    cache_dir: Path = field(default_factory=lambda: _cache_dir(os.environ))
    default_index: Path | None = None
    embed_threads: int = 0
    api_key: str | None = field(default=None, repr=False)
    qdrant_api_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """The defaults, then the environment (``$DOCQA_ALLOW_DOWNLOAD``, ``$XDG_CACHE_HOME``,
        ``$DOCQA_INDEX``, ``$DOCQA_EMBED_THREADS``, ``$DOCQA_API_KEY``, ``$QDRANT_API_KEY``), then
        ``overrides``."""
        environ = os.environ if environ is None else environ
        cache_dir = _cache_dir(environ)
        values = dict(
            allow_download=environ.get(ALLOW_DOWNLOAD_ENV, "").lower() in _TRUE, cache_dir=cache_dir,
            default_index=Path(environ[INDEX_ENV]) if environ.get(INDEX_ENV) else cache_dir / "default-index",
            embed_threads=int(threads) if (threads := environ.get(THREADS_ENV, "")).isdigit() else 0,
            api_key=environ.get(API_KEY_ENV) or None, qdrant_api_key=environ.get(QDRANT_API_KEY_ENV) or None)
        return cls(**{**values, **overrides})

    @classmethod
    def from_args(cls, args, environ: Mapping[str, str] | None = None) -> "Settings":
        """From a command's parsed flags (those it has: ``--model``, ``--backend``,
        ``--allow-download``, ``--max-tokens``, ``--overlap``, ``--index-type``) over the environment."""
        base = cls.from_environment(environ)
        flags = vars(args)
        chunking = Chunking(flags.get("max_tokens", base.chunking.max_tokens),
                            flags.get("overlap", base.chunking.overlap_sentences))
        return replace(base, model=flags.get("model") or base.model, backend=flags.get("backend") or base.backend,
                       allow_download=base.allow_download or bool(flags.get("allow_download")), chunking=chunking,
                       index_type=flags.get("index_type") or base.index_type)

    @property
    def model_cache(self) -> Path:
        """Where exported models go, one export per machine."""
        return self.cache_dir / "models"

    def record(self, model: str | None = None) -> RecordedSettings:
        """What a manifest keeps of these settings (``model``: the one the build used)."""
        return RecordedSettings(model or self.model or "", self.backend, self.chunking, self.max_bytes, self.index_type)


def current_settings(**overrides) -> Settings:
    """Settings from the environment and the defaults, for a caller that was handed none."""
    return Settings.from_environment(**overrides)


def docqa_cache() -> Path:
    """``$XDG_CACHE_HOME/docqa`` (``~/.cache/docqa`` by default): exported models, the default index
    and the eval's indexes."""
    return current_settings().cache_dir
