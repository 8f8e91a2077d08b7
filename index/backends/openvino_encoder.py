"""OpenVINO: the model exported once to OpenVINO IR, then run by OpenVINO's CPU plugin."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import uuid
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from index.backends.base import (BackendUnavailable, Spans, normalized, passage_embedding_text, pool_spans,
                                 stripped_with_spans, token_counts)
from index.backends.cpu import detect_cpu
from index.backends.fast_tokenizer import load_tokenizer

log = logging.getLogger("docqa.index")
EXPORT_FILE = "model.xml"
COMPILED_CACHE = "openvino-compiled"


def import_openvino():
    try:
        import openvino
    except ImportError:
        raise BackendUnavailable("the openvino backend needs the 'openvino' extra: pip install 'docqa[openvino]' "
                                 "(or choose --backend torch-bf16 / torch-fp32)") from None
    return openvino


class OpenVinoEncoder:
    """Encode with an OpenVINO export of a sentence-transformers model (mean or CLS pooling).

    The export is made on first use from the local model, in a temporary folder renamed into
    ``cache_dir`` when complete, so an interrupted or concurrent export never leaves half a model.

    >>> from index.embedder import default_model_cache, resolve_model
    >>> encoder = OpenVinoEncoder(resolve_model("all-MiniLM-L6-v2"), default_model_cache(), precision="fp32")
    >>> encoder(["When was SenseTime founded?"]).shape, encoder.precision
    ((1, 384), 'fp32')

    Parameters:
        location: a local sentence-transformers model folder.
        cache_dir: where exports are kept (``Embedder`` uses the user's model cache).
        precision: ``bf16`` or ``fp32``, given to OpenVINO as its inference precision hint
            (``precision`` afterwards says what OpenVINO really runs), or ``int8``: the export
            quantised once with NNCF (the ``int8`` extra), about 1.5x bf16's speed, cosine to fp32 0.996.
        local_files_only: never reach the hub while exporting.
        batch_size: texts per inference request.
    """

    def __init__(self, location: str, cache_dir: str | Path, precision: str = "bf16",
                 local_files_only: bool = True, batch_size: int = 32, threads: int = 0):
        openvino = import_openvino()
        self.location = location
        self.batch_size = batch_size
        self.pooling, self.max_length = _sentence_transformers_settings(Path(location))
        # Not transformers' AutoTokenizer: importing transformers imports torch, 2 s of every start.
        self.tokenizer = load_tokenizer(location, local_files_only)
        self._tokenizer_lock = threading.Lock()  # fast tokenizers refuse concurrent padded calls
        fingerprint = _fingerprint(location, openvino.__version__)
        self.export_dir = Path(cache_dir) / f"openvino-{fingerprint}"
        self.exported_now = not (self.export_dir / EXPORT_FILE).is_file()
        if self.exported_now:
            _save_atomically(self._convert(local_files_only), self.export_dir)
        model_file = self.export_dir / EXPORT_FILE
        if precision == "int8":
            quantized_dir = Path(cache_dir) / f"openvino-int8-{fingerprint}"
            if not (quantized_dir / EXPORT_FILE).is_file():
                _save_atomically(self._quantize(openvino.Core().read_model(str(model_file))), quantized_dir)
                self.exported_now = True
            model_file = quantized_dir / EXPORT_FILE
        # int8 quantises the matrix multiplications only; what stays in floating point runs in bf16 where
        # the CPU has it.
        hint = "bf16" if precision == "bf16" or (precision == "int8" and detect_cpu().bf16) else "f32"
        self.model = openvino.Core().compile_model(str(model_file), "CPU", {
            # One request at a time over every core. Two streams of one core each were no faster on
            # a build's 64-passage calls (53.7 against 54.5 passages/s, 3 rounds).
            "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": hint,
            # The compiled model is kept beside the export (one blob per model and setting) and
            # loaded from there on the next start: 0.07 s instead of 0.25 s of compiling.
            "CACHE_DIR": str(Path(cache_dir) / COMPILED_CACHE),
            **({"INFERENCE_NUM_THREADS": threads} if threads else {})})
        runs_bf16 = self.model.get_property("INFERENCE_PRECISION_HINT") == openvino.Type.bf16
        self.precision = "int8" if precision == "int8" else "bf16" if runs_bf16 else "fp32"
        self.input_names = {port.get_any_name() for port in self.model.inputs}
        self.dimension = int(self.model.outputs[0].get_partial_shape()[2].get_length())

    def _convert(self, local_files_only: bool):
        import openvino
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        log.info("exporting %s to OpenVINO in %s (once)", self.location, self.export_dir)
        verbosity = transformers_logging.get_verbosity()
        transformers_logging.set_verbosity_error()
        # Tracing warns about shape checks that are constant for an encoder given its attention mask.
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            model = AutoModel.from_pretrained(self.location, local_files_only=local_files_only).eval()
            example = dict(self.tokenizer(["an example", "a second, longer example"], padding=True, return_tensors="pt"))
            converted = openvino.convert_model(_LastHiddenState(model), example_input=example)
        transformers_logging.set_verbosity(verbosity)
        return converted

    def _quantize(self, model):
        """Static int8 (NNCF) calibrated on the bundled corpus's passages: local text, never a hub
        dataset, and the same for every index, so one quantised model serves them all."""
        try:
            import nncf
        except ImportError:
            raise BackendUnavailable("the openvino-int8 backend needs the 'int8' extra: pip install 'docqa[int8]' "
                                     "(or choose --backend openvino)") from None
        log.info("quantising %s to int8 with NNCF (once)", self.location)
        nncf.set_log_level(logging.ERROR)
        texts = calibration_texts(lambda batch: token_counts(self.tokenizer, batch))
        self.input_names = {port.get_any_name() for port in model.inputs}
        batches = [self._inputs(self._tokenize(texts, list(range(offset, min(offset + 16, len(texts))))))
                   for offset in range(0, len(texts), 16)]
        return nncf.quantize(model, nncf.Dataset(batches), model_type=nncf.ModelType.TRANSFORMER,
                             subset_size=len(texts))

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([str(text).strip() for text in texts], None)[0]

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Spans]) -> tuple[np.ndarray, list[np.ndarray]]:
        prepared = [stripped_with_spans(str(text), text_spans) for text, text_spans in zip(texts, spans)]
        return self._encode([text for text, _ in prepared], [text_spans for _, text_spans in prepared])

    def _encode(self, texts: list[str], spans: list[Spans] | None) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' vectors and, where ``spans`` are given, each text's span vectors (see ``pool_spans``)."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pooled: list[np.ndarray] = [np.zeros((0, self.dimension), dtype=np.float32)] * len(texts)
        # Longest first, so each batch pads to lengths close to its own.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        request = self.model.create_infer_request()  # one per call: requests are not thread-safe
        for offset in range(0, len(order), self.batch_size):
            rows = order[offset:offset + self.batch_size]
            encoded = self._tokenize(texts, rows, offsets=spans is not None)
            offsets = encoded.pop("offset_mapping", None)
            hidden = request.infer(self._inputs(encoded))[0]
            vectors[rows] = _pool(hidden, encoded["attention_mask"], self.pooling)
            for position, row in enumerate(rows if spans is not None else ()):
                pooled[row] = pool_spans(hidden[position], offsets[position], encoded["attention_mask"][position],
                                         spans[row])
        return normalized(vectors), pooled

    def _tokenize(self, texts: list[str], rows: list[int], offsets: bool = False):
        with self._tokenizer_lock:
            return self.tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=self.max_length,
                                  return_tensors="np", return_offsets_mapping=offsets)

    def _inputs(self, encoded) -> dict[str, np.ndarray]:
        return {name: np.asarray(value, dtype=np.int64) for name, value in encoded.items() if name in self.input_names}


class _LastHiddenState:
    """The transformer with keyword inputs and one output, as the export wants it."""

    def __new__(cls, model):
        import torch

        class Wrapped(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids=None):
                return self.model(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

        return Wrapped()


def calibration_texts(count_tokens) -> list[str]:
    """About 115 passages of the bundled SenseTime corpus, short (60 tokens) and full (200), as a
    build embeds them."""
    from ingest import BUNDLED_CORPUS
    from ingest.chunker import Chunker
    from ingest.loader import DocumentLoader

    texts = []
    for document in DocumentLoader()([BUNDLED_CORPUS]):
        for max_tokens in (60, 200):
            texts += [passage_embedding_text(document.title, passage.section, passage.text)
                      for passage in Chunker(max_tokens, count_tokens=count_tokens)(document)]
    return texts


def _save_atomically(model, folder: Path) -> None:
    """Write into a temporary folder renamed into place, so an interrupted or concurrent export
    never leaves half a model where the next run would load it."""
    import openvino

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".tmp-{folder.name}-{uuid.uuid4().hex[:8]}")
    try:
        staging.mkdir()
        openvino.save_model(model, str(staging / EXPORT_FILE))
        os.rename(staging, folder)
    except OSError:
        if not (folder / EXPORT_FILE).is_file():  # not merely another process finishing first
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _pool(hidden: np.ndarray, mask: np.ndarray, pooling: str) -> np.ndarray:
    hidden = hidden.astype(np.float32)
    if pooling == "cls":
        return hidden[:, 0]
    weights = mask[..., None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def _sentence_transformers_settings(folder: Path) -> tuple[str, int]:
    """Pooling mode and maximum sequence length, read from the model folder as
    sentence-transformers would."""
    pooling, max_length = "mean", 512
    try:
        modules = json.loads((folder / "modules.json").read_text())
        pooling_path = next((m["path"] for m in modules if m.get("type", "").endswith("Pooling")), None)
        if pooling_path is not None:
            config = json.loads((folder / pooling_path / "config.json").read_text())
            modes = [key for key, on in config.items() if key.startswith("pooling_mode") and on]
            if modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"]):
                raise BackendUnavailable(f"the openvino backend supports mean or CLS pooling, not {modes}; "
                                         "choose --backend torch-fp32")
            pooling = "cls" if modes == ["pooling_mode_cls_token"] else "mean"
        max_length = int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, KeyError, ValueError):
        pass  # a plain transformers folder: mean pooling over up to 512 tokens
    return pooling, max_length


def _fingerprint(location: str, openvino_version: str) -> str:
    """Changes when the weights or OpenVINO change, so a stale export is never reused."""
    digest = hashlib.sha256(f"{Path(location).resolve()}\0{openvino_version}".encode())
    for path in sorted(Path(location).glob("*")):
        if path.is_file():
            digest.update(f"{path.name}\0{path.stat().st_size}\0{path.stat().st_mtime_ns}".encode())
    return digest.hexdigest()[:16]
