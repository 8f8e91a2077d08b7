"""The CLI and API facing careless users and hostile documents: clear errors, honest messages on
Ctrl-C, no terminal escapes, and no download an index did not get the user's consent for."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import index.store
import qa.cli
from index import IndexStore
from index.embedder import ModelUnavailable
from qa import QA, QuestionError
from qa.cli import main as cli
from support import REPO, restore_sigint


@pytest.fixture(scope="module")
def seed_qa(seed_index, embedder):
    return QA(IndexStore.open(seed_index), embedder)


@pytest.mark.parametrize("question, k, expected", [
    (None, 5, "must be a string (str), not NoneType"),
    (42, 5, "must be a string (str), not int"),
    (["When?"], 5, "must be a string (str), not list"),
    ("When was SenseTime founded?", 0, "k must be a positive int"),
    ("When was SenseTime founded?", "5", "k must be a positive int"),
    ("When was SenseTime founded?", 2.5, "k must be a positive int"),
    ("x" * 2001, 5, "the limit is 2,000"),
])
def test_bad_questions_and_k_raise_question_error_naming_the_expected_type(seed_qa, question, k, expected):
    with pytest.raises(QuestionError, match=re.escape(expected)):
        seed_qa.ask(question, k=k)


def test_five_megabyte_question_is_refused_at_once(seed_qa):
    started = time.perf_counter()
    with pytest.raises(QuestionError, match="5,000,000 characters long"):
        seed_qa.ask("why " * 1_250_000)
    assert time.perf_counter() - started < 1


def _hostile_index(tmp_path, embedder):
    from index import IndexBuilder

    docs = tmp_path / "docs"
    docs.mkdir()
    filler = " ".join(f"The clerk filed report {n} about the archive shelves." for n in range(30))
    (docs / "evil.txt").write_text("Evil \x1b]0;pwned\x07title\n\nThe vault code is \x1b[2J\x1b[31m1234\x9b0m, said the clerk. "
                                   + filler)
    IndexBuilder(tmp_path / "ix", progress=False, embedder=embedder)([docs])
    return tmp_path / "ix"


def test_terminal_escapes_from_documents_are_stripped_from_text_output(tmp_path, embedder, capsys):
    index_dir = _hostile_index(tmp_path, embedder)
    assert cli(["ask", "What is the vault code?", "--index", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert "1234" in out and not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", out)
    assert cli(["ask", "What is the vault code?", "--index", str(index_dir), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert "\x1b[31m1234" in payload["hits"][0]["passage"]["text"], "JSON keeps the text exact, escaped"


def test_an_index_naming_a_hub_model_never_downloads(seed_index_copy, monkeypatch, capsys):
    manifest = IndexStore.open(seed_index_copy).version / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "model": "attacker/evil-model"}))
    import huggingface_hub

    def no_network(*args, **kwargs):
        raise AssertionError("a hub request was made")

    for name in ("hf_hub_download", "snapshot_download", "model_info"):
        monkeypatch.setattr(huggingface_hub, name, no_network)
    monkeypatch.delenv("DOCQA_ALLOW_DOWNLOAD", raising=False)
    with pytest.raises(ModelUnavailable, match="--allow-download"):
        QA.open(seed_index_copy)
    assert cli(["ask", "anything", "--index", str(seed_index_copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'attacker/evil-model' is neither the bundled model nor a local folder" in err


def test_ctrl_c_after_the_swap_says_the_new_version_is_live(seed_index_copy, tmp_path, monkeypatch, capsys):
    note = tmp_path / "late.txt"
    note.write_text("Late note\n\nInterrupted right after the swap.")
    before = index.store.current_version(seed_index_copy)

    def interrupted(root):
        raise KeyboardInterrupt

    monkeypatch.setattr(index.store, "remove_stale_versions", interrupted)
    assert cli(["index", str(note), "--index", str(seed_index_copy), "--quiet"]) == 130
    after = index.store.current_version(seed_index_copy)
    assert after != before
    assert capsys.readouterr().err.strip() == f"interrupted after the new version {after.name} went live: the index is updated"


@pytest.mark.parametrize("wrapped", [ImportError("initialization of _native failed"), OSError("read interrupted")])
def test_ctrl_c_that_a_library_wrapped_in_its_own_error_still_exits_as_interrupted(seed_index, monkeypatch, capsys,
                                                                                     wrapped):
    def open_interrupted(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise wrapped

    monkeypatch.setattr(qa.cli, "_open", open_interrupted)
    assert cli(["ask", "When was SenseTime founded?", "--index", str(seed_index)]) == 130
    assert capsys.readouterr().err == "interrupted\n"


@pytest.mark.parametrize("delay", [0.15, 0.5, 1.0, 2.0])
def test_ctrl_c_at_any_moment_of_start_up_prints_no_traceback(seed_index, delay):
    process = subprocess.Popen([sys.executable, "-m", "qa", "ask", "When was SenseTime founded?", "--index", str(seed_index)],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=restore_sigint)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert "Traceback" not in err
    assert process.returncode == 130 and err.strip() == "interrupted" or process.returncode == 0 and "Answer:" in out


@pytest.mark.slow   # a qa index subprocess interrupted mid-embedding: about 11 s
def test_ctrl_c_during_embedding_stops_within_seconds(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    # 800 passages, about 15 s of embedding: the build cannot finish between its first progress line
    # and the interrupt, and the test only waits for that first line.
    for number in range(160):
        sentences = " ".join(f"Survey {number} counted {number * 3 + i} birds at site {i} near the river bend."
                             for i in range(60))
        (docs / f"survey_{number:02d}.txt").write_text(f"Survey {number}\n\n{sentences}\n")
    process = subprocess.Popen([sys.executable, "-m", "qa", "index", str(docs), "--index", str(tmp_path / "ix")],
                               cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=restore_sigint)
    seen, deadline = "", time.time() + 240
    while time.time() < deadline and not re.search(r"embedding:[^|]*\|[^|]*\| [1-9]\d*/", seen):
        chunk = process.stderr.read(32)
        if not chunk:
            break
        seen += chunk
    assert process.poll() is None, f"the build ended before it could be interrupted:\n{seen[-500:]}"
    process.send_signal(signal.SIGINT)
    interrupted = time.perf_counter()
    _, err = process.communicate(timeout=120)
    waited = time.perf_counter() - interrupted
    assert process.returncode == 130 and "Traceback" not in err
    assert "the index is unchanged" in err
    assert waited < 8, f"Ctrl-C took {waited:.1f} s to take effect"


def test_independent_questions_run_concurrently(seed_index, embedder, monkeypatch):
    import threading

    qa = QA(IndexStore.open(seed_index), embedder)
    both_inside = threading.Barrier(2, timeout=20)
    real_extract = qa.extract_answer

    def extract_when_both_are_inside(*args, **kwargs):
        both_inside.wait()  # breaks (and the test fails) if questions are answered one at a time
        return real_extract(*args, **kwargs)

    monkeypatch.setattr(qa, "extract_answer", extract_when_both_are_inside)
    answers = []
    threads = [threading.Thread(target=lambda q=q: answers.append(qa.ask(q, k=3)))
               for q in ("Who founded SenseTime?", "When was SenseTime founded?")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 2 and not both_inside.broken


@pytest.mark.parametrize("option, value, expected", [
    ("--overlap", "-1", "overlap must be from 0 to 8 sentences (qa index --overlap), not -1"),
    ("--overlap", "1000", "overlap must be from 0 to 8 sentences (qa index --overlap), not 1000"),
    ("--max-tokens", "100000", "max_tokens must be from 8 to 512 (qa index --max-tokens), not 100000")])
def test_chunking_options_out_of_range_get_one_line_naming_the_range(tmp_path, capsys, option, value, expected):
    note = tmp_path / "note.txt"
    note.write_text("A note\n\nThe sensor was calibrated on Monday.")
    assert cli(["index", str(note), "--index", str(tmp_path / "index"), "--quiet", option, value]) == 2
    assert capsys.readouterr().err == f"error: {expected}\n"
    assert not (tmp_path / "index").exists(), "refused before the index folder is made"
