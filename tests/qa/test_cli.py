"""One command tree: the later stages' commands (``qa ui``, ``qa eval``) are the same programs as
``python ui.py`` and ``python -m eval``, with the same options, loaded only when asked for."""
import os
import shutil
import subprocess
import sys

import pytest

from index.backends.openvino_encoder import COMPILED_CACHE
from support import REPO


def _help(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "qa", *args, "--help"], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_qa_ui_takes_every_option_of_ui_py():
    text = _help("ui")
    for option in ("--host", "--port", "--max-upload-mb", "--allow-download", "--backend", "--share"):
        assert option in text


def test_qa_eval_is_python_m_eval():
    assert "{questions,seeds,tune,abstain,beir}" in _help("eval")


def test_qa_help_lists_the_later_stage_commands_without_importing_them():
    probe = ("import sys\nfrom qa.cli import _parser\n_parser().format_help()\n"
             "print(sorted(m for m in ('ui', 'gradio', 'eval') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[]", result.stderr
    assert "ui" in _help() and "eval" in _help()


def test_qa_stats_loads_no_model(seed_index):
    """``qa stats`` reads the manifest and counts: the model (torch, transformers, OpenVINO's
    compiled network) loads only for the first question."""
    probe = ("import sys\nfrom qa.cli import main\ncode = main(['stats', '--index', sys.argv[1]])\n"
             "print(code, sorted(m for m in ('transformers', 'sentence_transformers', 'torch') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe, str(seed_index)], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.stdout.strip().splitlines()[-1] == "0 []", result.stdout + result.stderr
    assert "passages       24" in result.stdout


# Libraries no ``qa stats`` needs: the model's (torch, transformers, OpenVINO), the search indexes'
# (FAISS, bm25s), the answer step's (spaCy), the server's, the UI's and the scale-out engines'.
NOT_FOR_STATS = ("torch", "transformers", "sentence_transformers", "openvino", "faiss", "bm25s", "spacy",
                 "gradio", "fastapi", "uvicorn", "qdrant_client", "ray", "mcp")
# ``qa ask`` loads the model and searches, but with OpenVINO serving it needs neither torch nor transformers.
NOT_FOR_ASK = ("torch", "transformers", "sentence_transformers", "gradio", "fastapi", "uvicorn", "qdrant_client",
               "ray", "mcp")
_IMPORTS_PROBE = ("import sys\nfrom qa.cli import main\ncode = main(sys.argv[2:])\n"
                  "print(code, sorted(m for m in sys.argv[1].split(',') if m in sys.modules))")


@pytest.fixture
def default_index_home(tmp_path, seed_index, embedder):
    """An ``$XDG_CACHE_HOME`` whose default index is built and current, with this machine's OpenVINO
    export of the model copied in (the compiled model's cache is made there)."""
    shutil.copytree(seed_index, tmp_path / "docqa" / "default-index")
    assert embedder.backend.startswith("openvino"), "the default backend here is OpenVINO's"
    export = embedder.encoder.export_dir
    shutil.copytree(export, tmp_path / "docqa" / "models" / export.name)
    return tmp_path


def _imports(home, names, *command: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "XDG_CACHE_HOME": str(home)}
    environment.pop("DOCQA_INDEX", None)
    return subprocess.run([sys.executable, "-c", _IMPORTS_PROBE, ",".join(names), *command], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=environment)


def test_qa_stats_imports_no_model_search_server_or_engine_library(default_index_home, seed_index):
    for command in (["stats"], ["stats", "--index", str(seed_index)]):
        result = _imports(default_index_home, NOT_FOR_STATS, *command)
        assert result.stdout.strip().splitlines()[-1] == "0 []", result.stdout + result.stderr
        assert "passages       24" in result.stdout and "query_backend  openvino-" in result.stdout
    assert not (default_index_home / "docqa" / "models" / COMPILED_CACHE).exists(), "no model was compiled"


def test_qa_ask_imports_neither_torch_nor_the_server_ui_or_engines(default_index_home):
    for _ in range(2):   # the first start compiles the model into the cache, the second loads it from there
        result = _imports(default_index_home, NOT_FOR_ASK, "ask", "When was SenseTime founded?")
        assert result.stdout.strip().splitlines()[-1] == "0 []", result.stdout + result.stderr
        assert "Answer: October 2014" in result.stdout
    assert any((default_index_home / "docqa" / "models" / COMPILED_CACHE).iterdir())


def _ask(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", "ask", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def test_ask_where_answers_from_the_documents_the_clauses_allow(scoped_index):
    import json

    question = "How many nesting pairs did the survey count?"
    notes = _ask(question, "--index", str(scoped_index), "--where", "path=notes/", "--where", "tag=python", "--json")
    assert notes.returncode == 0, notes.stderr
    answer = json.loads(notes.stdout)
    assert answer["short"] == "42" and {hit["citation"]["source"] for hit in answer["hits"]} == {"kestrel.md"}
    pdf = _ask(question, "--index", str(scoped_index), "--where", "format=pdf")
    assert pdf.returncode == 0 and pdf.stdout.startswith("Answer: 412"), pdf.stdout + pdf.stderr
    nothing = _ask(question, "--index", str(scoped_index), "--where", "date>=2030")
    assert nothing.returncode == 0 and "no passage found within --where date>=2030" in nothing.stderr


def test_a_bad_where_clause_is_one_line_and_exit_code_2(scoped_index):
    for clause, words in (("colour~blue", "does not parse; use path=GLOB"), ("date>=soon", "is not a date")):
        refused = _ask("Who?", "--index", str(scoped_index), "--where", clause)
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr.startswith("error: where clause") and words in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr


def test_a_declined_question_lists_the_closest_passages_and_a_language_hint(seed_index):
    from qa.api import QA
    from qa.cli import format_answer

    with QA.open(seed_index) as qa:
        declined = format_answer(qa.ask("When did SenseTime open its office in Buenos Aires?"))
        german = format_answer(qa.ask("Wo hat die Firma ihren Hauptsitz?"))
    assert declined.startswith("Not found in these documents; closest passages:") and "[5] " in declined
    assert german.splitlines()[1].startswith("The question looks like German") and "[1] " in german
