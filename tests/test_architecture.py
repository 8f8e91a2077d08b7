"""The stages import forwards only (ingest → index → qa → eval, ui) and no module imports in a circle."""
import ast
from pathlib import Path

from support import REPO

STAGES = {"ingest": 0, "index": 1, "qa": 2, "eval": 3, "ui": 3}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The project modules ``path`` imports, at top level or inside a function. ``from package import
    module`` is an edge to that module alone: importing a submodule initialises its package anyway."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & modules
            found.update(submodules if len(submodules) == len(node.names) else submodules | {base})
    return {module for module in found if module in modules and module != name}


def _graph() -> dict[str, set[str]]:
    files = [REPO / "ui.py"] + [p for stage in STAGES if stage != "ui" for p in (REPO / stage).rglob("*.py")]
    names = {_module_name(path): path for path in files}
    return {name: _imports(path, name, set(names)) for name, path in names.items()}


def test_no_module_imports_a_later_stage():
    back_edges = sorted(f"{module} imports {target}" for module, targets in _graph().items() for target in targets
                        if STAGES[target.split(".")[0]] > STAGES[module.split(".")[0]])
    assert back_edges == []


def test_no_import_cycles():
    graph, cycles, state = _graph(), [], {}

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(" → ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_walk_sees_real_edges():
    """The walker itself: it finds a known forward edge, so an empty result above means something."""
    assert "index.embedder" in _graph()["qa.api"]
