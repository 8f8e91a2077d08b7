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


# Modules without logic of their own, so without a test file: re-exports, data classes, entry points.
NO_LOGIC = {
    "ingest/__init__.py": "re-exports the stage's names",
    "index/__init__.py": "re-exports the stage's names",
    "qa/__init__.py": "re-exports the stage's names, loaded on first use",
    "eval/__init__.py": "the bench folder's path",
    "qa/__main__.py": "runs qa.cli.main (tests/qa/test_cli.py)",
    "ingest/formats/base.py": "the data classes every format returns",
    "qa/types.py": "the data classes the QA stage returns",
}


def mirrored_test_file(module: Path) -> Path:
    """Where a module's tests live: ``tests/ingest/test_chunker.py`` for ``ingest/chunker.py``, the
    package's name for its ``__init__.py`` (``tests/index/test_backends.py``), ``test_main.py`` for a
    ``__main__.py``, ``tests/test_ui.py`` for ``ui.py``.

    >>> mirrored_test_file(Path("ingest/formats/markdown.py")).as_posix()
    'tests/ingest/formats/test_markdown.py'
    """
    folder, name = module.parent, module.stem
    if name == "__init__":
        folder, name = folder.parent, folder.name
    return Path("tests", folder, f"test_{'main' if name == '__main__' else name}.py")


def _source_modules() -> list[Path]:
    return [Path("ui.py")] + sorted(path.relative_to(REPO) for stage in ("ingest", "index", "qa", "eval")
                                    for path in (REPO / stage).rglob("*.py"))


def test_every_module_with_logic_has_a_test_file_named_after_it():
    missing = [f"{module} has no {mirrored_test_file(module)}" for module in _source_modules()
               if module.as_posix() not in NO_LOGIC and not (REPO / mirrored_test_file(module)).is_file()]
    assert missing == []


def test_the_no_logic_list_names_real_modules_without_test_files():
    modules = {module.as_posix() for module in _source_modules()}
    assert set(NO_LOGIC) <= modules, set(NO_LOGIC) - modules
    tested = [name for name in NO_LOGIC if (REPO / mirrored_test_file(Path(name))).is_file()]
    assert tested == [], "a module with a test file of its own does not belong on the no-logic list"


def test_the_mirror_rule_maps_packages_entry_points_and_the_ui():
    assert mirrored_test_file(Path("index/backends/__init__.py")) == Path("tests/index/test_backends.py")
    assert mirrored_test_file(Path("eval/__main__.py")) == Path("tests/eval/test_main.py")
    assert mirrored_test_file(Path("ui.py")) == Path("tests/test_ui.py")
