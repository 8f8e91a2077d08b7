"""What this CPU can do for inference, read at run time: machines differ, so nothing is assumed."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Tests and users on odd platforms can state the flags instead ("avx2 fma", "avx512_bf16 amx_bf16").
CPU_FLAGS_ENV = "DOCQA_CPU_FLAGS"


@dataclass(frozen=True)
class CpuFeatures:
    """The instruction sets that change which embedding backend is fastest.

    >>> CpuFeatures.from_flags({"avx2", "avx512_bf16", "avx512_vnni"}).level
    'avx512_bf16'
    >>> CpuFeatures.from_flags({"avx2"}).bf16
    False

    Parameters:
        amx: AMX tiles with bf16 (Intel Sapphire Rapids and later): bf16 matmuls at many times fp32.
        avx512_bf16: bf16 dot products in AVX-512 (Intel Cooper Lake, AMD Zen 4 and later).
        vnni: int8 dot products (AVX512_VNNI or AVX_VNNI).
        avx2: the baseline x86 vector unit.
        source: where the flags came from (``/proc/cpuinfo``, the environment, OpenVINO, none).
    """

    amx: bool = False
    avx512_bf16: bool = False
    vnni: bool = False
    avx2: bool = False
    source: str = "none"

    @classmethod
    def from_flags(cls, flags: set[str], source: str = "given") -> "CpuFeatures":
        return cls(amx="amx_bf16" in flags, avx512_bf16="avx512_bf16" in flags,
                   vnni=bool({"avx512_vnni", "avx_vnni"} & flags), avx2="avx2" in flags, source=source)

    @property
    def bf16(self) -> bool:
        """Native bf16 arithmetic, without which bf16 is emulated and slower than fp32."""
        return self.amx or self.avx512_bf16

    @property
    def level(self) -> str:
        """The best of these this CPU has, for the manifest and the bench."""
        for name in ("amx", "avx512_bf16", "vnni", "avx2"):
            if getattr(self, name):
                return name
        return "baseline"


@lru_cache(maxsize=1)
def detect_cpu() -> CpuFeatures:
    """Flags from ``$DOCQA_CPU_FLAGS``, else ``/proc/cpuinfo`` (Linux), else OpenVINO's report."""
    stated = os.environ.get(CPU_FLAGS_ENV)
    if stated is not None:
        return CpuFeatures.from_flags(set(stated.replace(",", " ").split()), source=CPU_FLAGS_ENV)
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith("flags"):
                return CpuFeatures.from_flags(set(line.partition(":")[2].split()), source="/proc/cpuinfo")
    except OSError:
        pass
    try:
        import openvino

        capabilities = set(openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
    except Exception:  # no OpenVINO, or no CPU plugin: know nothing, so choose fp32
        return CpuFeatures()
    return CpuFeatures(avx512_bf16="BF16" in capabilities, vnni="INT8" in capabilities, source="openvino")
