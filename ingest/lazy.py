"""Names of a package that load on first use, so importing a package imports none of its heavy modules."""
from __future__ import annotations

from importlib import import_module
from typing import Any, Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module path) when ``name`` is first
    read and keeps the value in ``namespace`` (the package's ``globals()``), so later reads are plain.

    >>> namespace = {}
    >>> getter = lazy_exports("demo", {"sqrt": "math"}, namespace)
    >>> getter("sqrt")(4.0), "sqrt" in namespace
    (2.0, True)
    """
    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(exports[name]), name)
        namespace[name] = value
        return value

    return __getattr__
