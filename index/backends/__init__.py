"""Embedding backends: one module each, one registry line each, and ``auto`` chosen by the CPU.

Measured on a 2-core AMD EPYC (Zen 4, AVX-512 BF16, no AMX) with ``python -m eval.bench --backends``;
every backend ``auto`` may pick scored within 0.005 SciFact dense nDCG@10 of fp32 there (docs/benchmarks.md).

>>> choose_backend("auto", CpuFeatures.from_flags({"avx2"}), openvino_installed=False)
'torch-fp32'
>>> choose_backend("auto", CpuFeatures.from_flags({"avx2", "avx512_bf16"}), openvino_installed=False)
'torch-bf16'
>>> choose_backend("auto", CpuFeatures.from_flags({"avx2", "amx_bf16"}), openvino_installed=True)
'openvino-bf16'
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Callable

from index.backends.base import BackendUnavailable, Encoder
from index.backends.cpu import CpuFeatures, detect_cpu

EncoderFactory = Callable[[str, Path, bool, int], Encoder]


def _torch(precision: str) -> EncoderFactory:
    def make(location: str, cache_dir: Path, local_files_only: bool, threads: int) -> Encoder:
        from index.backends.torch_encoder import TorchEncoder
        return TorchEncoder(location, precision, local_files_only, threads=threads)
    return make


def _openvino(precision: str) -> EncoderFactory:
    def make(location: str, cache_dir: Path, local_files_only: bool, threads: int) -> Encoder:
        from index.backends.openvino_encoder import OpenVinoEncoder
        return OpenVinoEncoder(location, cache_dir, precision, local_files_only, threads=threads)
    return make


# name -> factory(model location, export cache folder, local files only, threads (0: the library's default))
BACKENDS: dict[str, EncoderFactory] = {
    "torch-fp32": _torch("fp32"),
    "torch-bf16": _torch("bf16"),
    "openvino-fp32": _openvino("fp32"),
    "openvino-bf16": _openvino("bf16"),
    # Opt-in only: never chosen by auto (docs/benchmarks.md, "Embedding backends").
    "openvino-int8": _openvino("int8"),
}
AUTO = "auto"
# Shorthands: the precision follows the CPU.
ALIASES = {"openvino": "openvino-{precision}", "torch": "torch-{precision}"}
CHOICES = (AUTO, *ALIASES, *BACKENDS)


def openvino_is_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


def backend_is_installed(backend: str) -> bool:
    """Whether the packages ``backend`` needs are importable (torch ones always are)."""
    if not backend.startswith("openvino"):
        return True
    return openvino_is_installed() and (not backend.endswith("int8") or importlib.util.find_spec("nncf") is not None)


def choose_backend(requested: str = AUTO, cpu: CpuFeatures | None = None,
                   openvino_installed: bool | None = None) -> str:
    """The registered backend to run for ``requested`` on this CPU.

    ``auto`` prefers OpenVINO when installed (it was fastest here in fp32 and in bf16), in bf16 only
    where the CPU computes bf16 natively (AMX or AVX-512 BF16; elsewhere bf16 is emulated and slow),
    and falls back to torch with the same rule. It never picks ``openvino-int8``: faster still, but
    its vectors sit further from fp32's (cosine 0.996 against 0.99998).

    Parameters:
        requested: ``auto``, a name in ``BACKENDS``, or ``openvino``/``torch`` (precision by CPU).
        cpu: the features to decide by; detected at run time when not given.
        openvino_installed: whether the ``openvino`` extra is importable; looked up when not given.
    """
    if requested not in CHOICES:
        raise BackendUnavailable(f"unknown embedding backend {requested!r}; choose one of: {', '.join(CHOICES)}")
    if requested in BACKENDS:
        return requested
    cpu = cpu or detect_cpu()
    precision = "bf16" if cpu.bf16 else "fp32"
    if requested in ALIASES:
        return ALIASES[requested].format(precision=precision)
    if openvino_installed is None:
        openvino_installed = openvino_is_installed()
    return f"{'openvino' if openvino_installed else 'torch'}-{precision}"


def backend_for_index(indexed: str, requested: str = AUTO, cpu: CpuFeatures | None = None) -> str:
    """The backend to encode questions with for an index whose vectors ``indexed`` made: that same
    backend where it runs well here (installed, and bf16 only on a bf16 CPU), else ``auto``'s pick.

    >>> backend_for_index("torch-bf16", cpu=CpuFeatures.from_flags({"avx2"}), requested="torch-fp32")
    'torch-fp32'
    >>> backend_for_index("torch-bf16", cpu=CpuFeatures.from_flags({"avx2", "avx512_bf16"}))
    'torch-bf16'
    """
    if requested != AUTO or indexed not in BACKENDS:
        return choose_backend(requested, cpu)
    cpu = cpu or detect_cpu()
    runs_well = (cpu.bf16 or not indexed.endswith("bf16")) and backend_is_installed(indexed)
    return indexed if runs_well else choose_backend(AUTO, cpu)


def make_encoder(backend: str, location: str, cache_dir: Path, local_files_only: bool = True, threads: int = 0) -> Encoder:
    return BACKENDS[backend](location, Path(cache_dir), local_files_only, threads)


__all__ = ["AUTO", "BACKENDS", "BackendUnavailable", "CHOICES", "CpuFeatures", "Encoder", "backend_for_index",
           "backend_is_installed", "choose_backend",
           "detect_cpu", "make_encoder"]
