"""A model's fast tokenizer read straight from its ``tokenizer.json`` with the ``tokenizers`` library.

``transformers.AutoTokenizer`` builds the same Rust tokenizer, but importing transformers imports
torch too: about 2.3 s of CPU on every ``qa ask`` start, for a tokenizer that loads in 0.05 s
(docs/benchmarks.md, "CLI start"). ``FastTokenizer`` is called as transformers' tokenizers are, in
the ways docqa calls them, and gives the same word pieces, masks and offsets.

>>> from index.embedder import resolve_model
>>> tokenizer = load_tokenizer(resolve_model("all-MiniLM-L6-v2"))
>>> encoded = tokenizer(["When was SenseTime founded?", "Hi"], padding=True, return_tensors="np")
>>> encoded["input_ids"].shape, encoded["attention_mask"][1].tolist()
((2, 8), [1, 1, 1, 0, 0, 0, 0, 0])
>>> tokenizer(["When was SenseTime founded?"], add_special_tokens=False)["input_ids"]
[[2043, 2001, 3168, 7292, 2631, 1029]]
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

TOKENIZER_FILE = "tokenizer.json"


def load_tokenizer(location: str, local_files_only: bool = True):
    """The tokenizer of the model at ``location``: a ``FastTokenizer`` where the folder holds a
    ``tokenizer.json`` (the bundled model does), else transformers' own (a hub id, or a model that
    ships only a slow tokenizer)."""
    folder = Path(location)
    if (folder / TOKENIZER_FILE).is_file():
        return FastTokenizer.from_folder(folder)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(location, local_files_only=local_files_only)


class FastTokenizer:
    """``tokenizer(texts, padding=, truncation=, max_length=, return_tensors=, return_offsets_mapping=,
    add_special_tokens=)`` as a transformers fast tokenizer answers it: a dict of ``input_ids``,
    ``token_type_ids``, ``attention_mask`` (and ``offset_mapping``), lists of lists, or arrays with
    ``return_tensors="np"`` (``"pt"``: torch tensors). Safe to call from several threads: each
    padding and truncation setting has its own tokenizer, configured once."""

    def __init__(self, serialized: str, model_max_length: int = 512, pad_token: str = "[PAD]"):
        self._serialized = serialized
        self.pad_token = pad_token
        self.model_max_length = model_max_length
        self._configured: dict[tuple[bool, int | None], object] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder: str | Path) -> "FastTokenizer":
        folder = Path(folder)
        config = {}
        try:
            config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        serialized = (folder / TOKENIZER_FILE).read_text(encoding="utf-8")
        limit = config.get("model_max_length")   # transformers writes 1e30 for "no limit"
        pad_token = (json.loads(serialized).get("padding") or {}).get("pad_token") or config.get("pad_token")
        return cls(serialized, int(limit) if isinstance(limit, (int, float)) and limit < 1_000_000 else 512,
                   pad_token if isinstance(pad_token, str) else "[PAD]")

    def _tokenizer(self, padding: bool, max_length: int | None):
        key = (padding, max_length)
        with self._lock:
            if key not in self._configured:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_str(self._serialized)
                # tokenizer.json may carry the settings it was saved with (MiniLM's: pad and cut to 128).
                tokenizer.no_padding()
                tokenizer.no_truncation()
                if max_length is not None:
                    tokenizer.enable_truncation(max_length)
                if padding:
                    pad_id = tokenizer.token_to_id(self.pad_token)
                    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token=self.pad_token)
                self._configured[key] = tokenizer
            return self._configured[key]

    def __call__(self, texts: Sequence[str] | str, padding: bool = False, truncation: bool | str = False,
                 max_length: int | None = None, return_tensors: str | None = None,
                 return_offsets_mapping: bool = False, add_special_tokens: bool = True) -> dict:
        texts = [texts] if isinstance(texts, str) else list(texts)
        limit = (max_length or self.model_max_length) if truncation else None
        encodings = self._tokenizer(bool(padding), limit).encode_batch(texts, add_special_tokens=add_special_tokens)
        columns = {"input_ids": [e.ids for e in encodings], "token_type_ids": [e.type_ids for e in encodings],
                   "attention_mask": [e.attention_mask for e in encodings]}
        if return_offsets_mapping:
            columns["offset_mapping"] = [e.offsets for e in encodings]
        if return_tensors is None:
            return {name: [list(row) for row in rows] for name, rows in columns.items()}
        if return_tensors not in ("np", "pt"):
            raise ValueError(f"return_tensors must be 'np' or 'pt', not {return_tensors!r}")
        arrays = {name: np.asarray(rows, dtype=np.int64) for name, rows in columns.items()}
        if return_tensors == "pt":
            import torch

            return {name: torch.from_numpy(array) for name, array in arrays.items()}
        return arrays

