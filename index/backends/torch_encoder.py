"""sentence-transformers on torch, in fp32 or with bf16 weights."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from index.backends.base import Spans, normalized, pool_spans, stripped_with_spans


class TorchEncoder:
    """Encode with the sentence-transformers model itself.

    >>> from index.embedder import resolve_model
    >>> encoder = TorchEncoder(resolve_model("all-MiniLM-L6-v2"), precision="bf16")
    >>> encoder(["When was SenseTime founded?"]).shape, encoder.precision
    ((1, 384), 'bf16')

    Parameters:
        location: a local model folder (or, when downloads are allowed, a hub id).
        precision: ``fp32``, or ``bf16`` to cast the weights: about 2x on CPUs with native bf16,
            cosine to fp32 about 0.9999.
        local_files_only: never reach the hub.
        batch_size: texts per forward pass.
        threads: torch's threads (0: all the cores it sees).
    """

    def __init__(self, location: str, precision: str = "fp32", local_files_only: bool = True, batch_size: int = 32,
                 threads: int = 0):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        import torch

        if threads:
            torch.set_num_threads(threads)
        self.model = SentenceTransformer(location, device="cpu", local_files_only=local_files_only)
        if precision == "bf16":
            self.model.to(torch.bfloat16)
        self.precision = precision
        self.batch_size = batch_size
        self.dimension = int(self.model.get_embedding_dimension())

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=False,
                                    convert_to_numpy=True, normalize_embeddings=False)
        # bf16 outputs normalised in bf16 are off unit length by ~1e-3; normalise in fp32.
        return normalized(vectors)

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Spans]) -> tuple[np.ndarray, list[np.ndarray]]:
        import torch

        prepared = [stripped_with_spans(str(text), text_spans) for text, text_spans in zip(texts, spans)]
        vectors, pooled = [], []
        for offset in range(0, len(prepared), self.batch_size):
            batch = prepared[offset:offset + self.batch_size]
            # The model's own tokenisation, with the char offsets the span pooling needs.
            encoded = self.model.tokenizer([text for text, _ in batch], padding=True, truncation="longest_first",
                                           max_length=self.model.max_seq_length, return_offsets_mapping=True,
                                           return_tensors="pt")
            offsets = encoded.pop("offset_mapping").numpy()
            with torch.inference_mode():
                output = self.model(dict(encoded))
            hidden = output["token_embeddings"].float().numpy()
            mask = encoded["attention_mask"].numpy()
            vectors.append(output["sentence_embedding"].float().numpy())
            pooled += [pool_spans(hidden[i], offsets[i], mask[i], text_spans) for i, (_, text_spans) in enumerate(batch)]
        return normalized(np.concatenate(vectors) if vectors else np.zeros((0, self.dimension))), pooled
