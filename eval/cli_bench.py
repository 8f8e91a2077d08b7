"""How fast the ``qa`` command line starts (``python -m eval.bench --cli``): ``qa stats`` (no model),
``qa ask`` over the bundled corpus (import, startup index refresh, model load, first answer), and
``qa ask --index`` of the same index (the same without the refresh), each a fresh process, timed
from outside: wall clock and the CPU seconds the process used.

``--baseline CHECKOUT`` (a folder holding another version of docqa, e.g. ``git archive <commit> |
tar -x -C /tmp/base``) runs the same commands from that folder, interleaved with this checkout's
round by round, so the ratios compare runs made under the same load. Each checkout gets its own
``$XDG_CACHE_HOME`` (its default index names its own corpus files) that shares this machine's
model cache, and one untimed start first (it builds the default index, compiles the model).
"""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from index.settings import Settings

QUESTION = "When was SenseTime founded?"
_FLAGS_SHOWN = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_bf16", "amx_int8")


@dataclass(frozen=True)
class Checkout:
    label: str
    folder: Path
    cache_home: Path


@dataclass(frozen=True)
class Timing:
    command: str
    checkout: str
    wall_s: tuple[float, ...]
    cpu_s: tuple[float, ...]

    @property
    def median_wall(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu_s)


def commands(checkout: Checkout) -> dict[str, list[str]]:
    index = str(checkout.cache_home / "docqa" / "default-index")
    return {"qa stats": ["-m", "qa", "stats"],
            "qa ask": ["-m", "qa", "ask", QUESTION],
            "qa ask --index (no refresh)": ["-m", "qa", "ask", QUESTION, "--index", index]}


def timed(arguments: list[str], checkout: Checkout) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``python ARGUMENTS`` in ``checkout``; a failed run is an error."""
    environment = {**os.environ, "XDG_CACHE_HOME": str(checkout.cache_home)}
    environment.pop("DOCQA_INDEX", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, *arguments], cwd=checkout.folder, env=environment,
                            capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} in {checkout.folder} failed: {result.stderr.strip()[-300:]}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def prepared(label: str, folder: Path, home: Path, model_cache: Path) -> Checkout:
    """A checkout with its own cache home sharing ``model_cache``, started once untimed."""
    (home / "docqa").mkdir(parents=True, exist_ok=True)
    model_cache.mkdir(parents=True, exist_ok=True)
    link = home / "docqa" / "models"
    if not link.exists():
        link.symlink_to(model_cache, target_is_directory=True)
    checkout = Checkout(label, folder.resolve(), home)
    timed(commands(checkout)["qa ask"], checkout)
    return checkout


def run(baseline: Path | None = None, rounds: int = 5) -> dict:
    """Every command of every checkout once per round, interleaved; medians, spreads and ratios."""
    here = Path(__file__).resolve().parents[1]
    model_cache = Settings.from_environment().model_cache
    with tempfile.TemporaryDirectory(prefix="docqa-cli-bench-") as scratch:
        checkouts = ([prepared("baseline", baseline, Path(scratch) / "baseline", model_cache)] if baseline else [])
        checkouts.append(prepared("this checkout", here, Path(scratch) / "this", model_cache))
        walls: dict[tuple[str, str], list[float]] = {}
        cpus: dict[tuple[str, str], list[float]] = {}
        for _ in range(rounds):
            for name in commands(checkouts[0]):
                for checkout in checkouts:
                    wall, cpu = timed(commands(checkout)[name], checkout)
                    walls.setdefault((name, checkout.label), []).append(wall)
                    cpus.setdefault((name, checkout.label), []).append(cpu)
    timings = [Timing(name, label, tuple(walls[name, label]), tuple(cpus[name, label])) for name, label in walls]
    return {"rounds": rounds, "question": QUESTION, "cpu": cpu_description(),
            "checkouts": {c.label: str(c.folder) for c in checkouts},
            "timings": [{**asdict(t), "median_wall_s": t.median_wall, "median_cpu_s": t.median_cpu} for t in timings]}


def cpu_description() -> str:
    """The CPU's model name and the ``lscpu`` flags that decide the embedding backend, with the core count."""
    name, flags = "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and name == "unknown CPU":
                name = line.partition(":")[2].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.partition(":")[2].split())
    except OSError:
        pass
    shown = " ".join(flag for flag in _FLAGS_SHOWN if flag in flags) or "none of note"
    return f"{name}, {os.cpu_count()} cores, flags: {shown}"


def report(result: dict) -> str:
    """The table ``--cli`` prints: median wall and CPU seconds, the spread (min-max), and where a
    baseline ran, its median over this checkout's."""
    lines = [f"CLI start, {result['rounds']} interleaved rounds, fresh process each ({result['cpu']})",
             f"  {'command':30} {'checkout':14} {'wall s (median)':>15} {'min-max':>13} {'CPU s':>7} {'speed-up':>9}"]
    by_key = {(t["command"], t["checkout"]): t for t in result["timings"]}
    for t in result["timings"]:
        base = by_key.get((t["command"], "baseline"))
        ratio = (f"{base['median_wall_s'] / t['median_wall_s']:8.1f}x" if base and t["checkout"] != "baseline" else "")
        lines.append(f"  {t['command']:30} {t['checkout']:14} {t['median_wall_s']:15.2f} "
                     f"{min(t['wall_s']):6.2f}-{max(t['wall_s']):<6.2f} {t['median_cpu_s']:7.2f} {ratio:>9}")
    return "\n".join(lines)
