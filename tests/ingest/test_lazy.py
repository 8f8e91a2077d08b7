import subprocess
import sys
from pathlib import Path

import pytest

from ingest.lazy import lazy_exports

REPO = Path(__file__).resolve().parents[2]


def test_a_name_loads_on_first_read_and_an_unknown_name_is_an_attribute_error():
    namespace = {}
    getter = lazy_exports("demo", {"dumps": "json"}, namespace)
    assert getter("dumps")([1]) == "[1]" and "dumps" in namespace
    with pytest.raises(AttributeError, match="module 'demo' has no attribute 'loads'"):
        getter("loads")


def test_importing_the_stage_packages_imports_none_of_their_heavy_modules():
    probe = ("import sys, ingest, index, qa\n"
             "print(sorted(m for m in ('ingest.loader', 'index.store', 'qa.api', 'faiss', 'torch') if m in sys.modules))\n"
             "print(ingest.DocumentLoader.__module__, index.IndexStore.__module__, qa.QA.__module__)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.stdout.splitlines() == ["[]", "ingest.loader index.store qa.api"], result.stderr
