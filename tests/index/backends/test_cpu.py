"""What this CPU can do (index/backends/cpu.py): flags to features, the best level, read at run time."""
from index.backends.cpu import CpuFeatures, detect_cpu


def test_flags_become_features_and_the_best_level():
    assert CpuFeatures.from_flags({"avx2", "fma"}) == CpuFeatures(avx2=True, source="given")
    assert CpuFeatures.from_flags({"avx2", "avx_vnni"}).level == "vnni"
    assert CpuFeatures.from_flags({"avx2", "avx512_bf16", "amx_bf16"}).level == "amx"
    assert CpuFeatures.from_flags(set()).level == "baseline"
    assert CpuFeatures.from_flags({"amx_bf16"}).bf16 and CpuFeatures.from_flags({"avx512_bf16"}).bf16
    assert not CpuFeatures.from_flags({"avx2", "avx512_vnni"}).bf16


def test_cpu_flags_are_read_at_run_time(monkeypatch):
    detect_cpu.cache_clear()
    try:
        host = detect_cpu()
        assert host.source in {"/proc/cpuinfo", "openvino", "none"}
        monkeypatch.setenv("DOCQA_CPU_FLAGS", "avx2 fma")
        detect_cpu.cache_clear()
        assert detect_cpu() == CpuFeatures(avx2=True, source="DOCQA_CPU_FLAGS")
    finally:
        detect_cpu.cache_clear()




def test_stated_flags_may_be_separated_by_commas(monkeypatch):
    monkeypatch.setenv("DOCQA_CPU_FLAGS", "avx2,avx512_bf16, avx512_vnni")
    detect_cpu.cache_clear()
    try:
        assert detect_cpu() == CpuFeatures(avx512_bf16=True, vnni=True, avx2=True, source="DOCQA_CPU_FLAGS")
    finally:
        detect_cpu.cache_clear()
