"""The Qdrant store (local mode), built in process and through Ray Data, against the folder store."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("qdrant_client", reason="the scale extra: pip install -e '.[scale]'")

from eval.seeds import load_seed_questions, run_seed_eval  # noqa: E402
from index.embedder import Embedder, resolve_model  # noqa: E402
from index.store import IndexMismatch, IndexStore  # noqa: E402
from index.builder import make_builder  # noqa: E402
from index.settings import current_settings  # noqa: E402
from index.stores import open_store  # noqa: E402
from index.stores.qdrant import _doc_filter  # noqa: E402
from ingest import BUNDLED_CORPUS  # noqa: E402
from qa.api import QA  # noqa: E402
from qa.library import DocumentLibrary  # noqa: E402
from qa.retriever import MODES  # noqa: E402
from support import REPO, WIKI_SEED, make_pdf, recorded_seed_top5, seed_top5  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _qa(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONWARNINGS": "ignore"})


@pytest.fixture(scope="module")
def ray_seed_location(tmp_path_factory) -> str:
    """The bundled corpus built into Qdrant's local mode by ``qa index --ray`` (Ray on this machine)."""
    location = f"qdrant+local:{tmp_path_factory.mktemp('qdrant-ray') / 'store'}"
    result = _qa("index", str(BUNDLED_CORPUS), "--index", location, "--ray", "--ray-workers", "1", "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "5 documents, 24 passages" in result.stdout and "5 added" in result.stdout
    return location


@pytest.mark.slow   # starts Ray and builds through it
def test_ray_build_ranks_the_seed_questions_as_the_local_store(ray_seed_location, seed_index, embedder):
    engine, local = QA(open_store(ray_seed_location), embedder), QA(IndexStore.open(seed_index), embedder)
    questions = load_seed_questions()
    try:
        for mode in MODES:
            same_sources = same_passages = 0
            for question in questions:
                mine, theirs = engine.retrieve(question.question, 5, mode), local.retrieve(question.question, 5, mode)
                same_sources += [h.citation.source for h in mine] == [h.citation.source for h in theirs]
                same_passages += [h.passage.passage_id for h in mine] == [h.passage.passage_id for h in theirs]
            assert same_sources / len(questions) >= 0.95, (mode, same_sources)
            assert same_passages / len(questions) >= 0.95, (mode, same_passages)
        answer = engine.ask("When was SenseTime founded?")
        assert answer.short == "October 2014" and answer.answer_citation.source == WIKI_SEED
    finally:
        engine.close()
        local.close()


def test_a_qdrant_index_ranks_the_seed_questions_as_recorded(tmp_path, embedder):
    location = f"qdrant+local:{tmp_path / 'store'}"
    with make_builder(location, progress=False, embedder=embedder) as builder:
        builder([BUNDLED_CORPUS])
    with open_store(location) as store:
        assert seed_top5(store, embedder) == recorded_seed_top5()


@pytest.mark.slow   # starts Ray and builds through it
def test_the_ray_built_index_ranks_the_seed_questions_as_recorded(ray_seed_location, embedder):
    with open_store(ray_seed_location) as store:
        assert seed_top5(store, embedder) == recorded_seed_top5()


@pytest.mark.slow   # starts Ray and builds through it
def test_seed_eval_on_the_engine_is_within_0_02_of_the_local_store(ray_seed_location, seed_index):
    engine, local = run_seed_eval(ray_seed_location, progress=False), run_seed_eval(seed_index, progress=False)
    for mine, theirs in zip(engine.results, local.results):
        assert mine.mode == theirs.mode
        assert abs(mine.metrics["Success@5"] - theirs.metrics["Success@5"]) <= 0.02, (mine.mode, mine.metrics, theirs.metrics)
    assert engine.extra["answer accuracy (hybrid, k=5)"] == pytest.approx(local.extra["answer accuracy (hybrid, k=5)"], abs=0.02)


@pytest.mark.slow   # starts Ray and builds through it
def test_cli_asks_and_reports_on_the_engine(ray_seed_location):
    asked = _qa("ask", "Who founded SenseTime?", "--index", ray_seed_location)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("Answer: Tang Xiao'ou")
    stats = _qa("stats", "--index", ray_seed_location)
    assert "dense_index    qdrant" in stats.stdout and f"path           {ray_seed_location}" in stats.stdout


def _count(store, doc_id: str) -> int:
    return store.client.count(store.where.collection, count_filter=_doc_filter([doc_id]), exact=True).count


def test_add_change_and_remove_documents_in_place(seed_corpus_copy, tmp_path, embedder):
    location = f"qdrant+local:{tmp_path / 'store'}"
    with make_builder(location, progress=False, embedder=embedder) as builder:
        first = builder([seed_corpus_copy])
    assert (first.documents, first.passages, first.embedded) == (5, 24, 24)
    store = open_store(location)
    before = {d.source: d.doc_id for d in store.document_summaries()}
    store.close()

    changed = seed_corpus_copy / WIKI_SEED
    changed.write_text(changed.read_text().replace(
        "==References==", "In 2031 SenseTime opened a research laboratory on the Moon.\n\n==References=="))
    (seed_corpus_copy / "kestrel.md").write_text("# Kestrels\n\nThe kestrel hovers over rough grassland while it hunts voles.\n")
    gone = next(p for p in sorted(seed_corpus_copy.iterdir()) if p.name not in {WIKI_SEED, "kestrel.md"})
    gone.unlink()
    with make_builder(location, progress=False, embedder=embedder) as builder:
        second = builder([seed_corpus_copy], prune=True)
    assert (second.added_documents, second.changed_documents, second.removed_documents) == (1, 1, 1)
    assert 1 <= second.embedded <= 3 and second.reused >= 8, "only the new and changed passages are embedded"

    qa = QA(open_store(location), embedder)
    try:
        store = qa.store
        after = {d.source: d.doc_id for d in store.document_summaries()}
        assert set(after) == set(before) - {gone.name} | {"kestrel.md"} and store.count_documents() == 5
        assert _count(store, before[gone.name]) == 0 and _count(store, before[WIKI_SEED]) == 0, "old points deleted"
        assert store.count_passages() == sum(d.passages for d in store.document_summaries())
        for source, doc_id in after.items():
            if source in before and source != WIKI_SEED:
                assert doc_id == before[source], "unchanged documents keep their points"
        moon = qa.retrieve("Where did SenseTime open a research laboratory in 2031?", 1)[0]
        assert moon.citation.source == WIKI_SEED and "on the Moon" in moon.passage.text
        assert qa.retrieve("What does the kestrel hunt?", 1, "bm25")[0].citation.source == "kestrel.md"
    finally:
        qa.close()


@pytest.mark.slow   # starts Ray and builds through it
def test_a_model_mismatch_is_refused(ray_seed_location, embedder, tmp_path):
    other_model = Path(resolve_model("all-MiniLM-L6-v2"))
    with pytest.raises(IndexMismatch, match="was built with 'all-MiniLM-L6-v2'"):
        make_builder(ray_seed_location, current_settings(model=str(other_model)), progress=False)
    with open_store(ray_seed_location) as store, pytest.raises(IndexMismatch, match="was built with 'all-MiniLM-L6-v2'"):
        QA(store, Embedder(str(other_model)))
    refused = _qa("index", str(BUNDLED_CORPUS), "--index", ray_seed_location, "--model", str(other_model), "--quiet")
    assert refused.returncode == 2 and refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1
    assert "--rebuild" in refused.stderr


def test_uploads_questions_and_removals_through_the_library_and_the_api(seed_corpus_copy, tmp_path, embedder):
    location = f"qdrant+local:{tmp_path / 'store'}"
    with make_builder(location, progress=False, embedder=embedder) as builder:
        builder([seed_corpus_copy])
    library = DocumentLibrary(location, QA(open_store(location), embedder))
    try:
        report = library.add_files([make_pdf(tmp_path / "kestrel-survey.pdf")])
        assert (report.added, report.error) == (1, "")
        answer = library.ask("How many nesting pairs did the survey count?")
        assert answer.short == "412" and answer.answer_citation.page == 3
        pdf = next(d for d in library.documents() if d.source == "kestrel-survey.pdf")
        assert Path(pdf.path).is_relative_to(tmp_path / "store" / "uploads")
        library.remove(pdf.doc_id)
        assert "kestrel-survey.pdf" not in {d.source for d in library.documents()} and not Path(pdf.path).exists()
        assert library.stats().documents == 5
        from fastapi.testclient import TestClient
        from qa.server import create_app

        api = TestClient(create_app(library), base_url="http://127.0.0.1")
        asked = api.post("/ask", json={"question": "When was SenseTime founded?"})
        assert asked.status_code == 200 and asked.json()["short"] == "October 2014"
        cited = asked.json()["short_citation"]   # the source map comes from the document record
        assert (cited["line_start"], cited["line_end"], cited["text"]) == (10, 10, "October 2014")
        assert api.get("/stats").json()["path"] == location
    finally:
        library.qa.close()


@pytest.mark.slow   # fresh interpreters import the CLI paths: about 11 s
def test_the_default_path_imports_neither_ray_nor_a_database_client(seed_index):
    probe = ("import sys\nfrom qa.cli import main\nimport ui\n"
             f"assert main(['ask', 'When was SenseTime founded?', '--index', {str(seed_index)!r}]) == 0\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'qdrant_client', 'pymilvus')))\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("[]")


@pytest.mark.parametrize("blocked, args, hint", [
    ("qdrant_client", ["ask", "When?", "--index", "qdrant+local:{tmp}"], "needs the Qdrant client"),
    ("ray", ["index", str(BUNDLED_CORPUS), "--index", "qdrant+local:{tmp}", "--ray", "--quiet"], "--ray needs Ray Data"),
])
def test_a_missing_extra_is_one_line_naming_the_pip_command(blocked, args, hint, tmp_path):
    argv = [arg.replace("{tmp}", str(tmp_path / "store")) for arg in args]
    probe = f"import sys\nsys.modules[{blocked!r}] = None\nfrom qa.cli import main\nsys.exit(main({argv!r}))\n"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and hint in result.stderr and "pip install -e '.[scale]'" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


@pytest.mark.slow
def test_the_beir_eval_runs_on_the_engine_and_scores_as_the_local_store(tmp_path, embedder):
    """``python -m eval beir DATASET --index qdrant+local:...`` on a SciFact sample: 40 test
    queries, their relevant abstracts and 300 others."""
    from eval.__main__ import main as eval_main
    from eval.beir import run_beir
    from support import bench_path

    scifact = bench_path("scifact")
    sample = tmp_path / "scifact-sample"
    (sample / "qrels").mkdir(parents=True)
    qrels = (scifact / "qrels" / "test.tsv").read_text().splitlines()
    header, rows = qrels[0], [row.split("\t") for row in qrels[1:]]
    queries = list(dict.fromkeys(row[0] for row in rows))[:40]
    kept_rows = [row for row in rows if row[0] in queries]
    wanted = {row[1] for row in kept_rows}
    corpus = (scifact / "corpus.jsonl").read_text().splitlines()
    chosen = [line for line in corpus if json.loads(line)["_id"] in wanted] + corpus[:300]
    (sample / "corpus.jsonl").write_text("\n".join(dict.fromkeys(chosen)) + "\n")
    (sample / "queries.jsonl").write_text((scifact / "queries.jsonl").read_text())
    (sample / "qrels" / "test.tsv").write_text("\n".join([header] + ["\t".join(row) for row in kept_rows]) + "\n")

    location = f"qdrant+local:{tmp_path / 'store'}"
    assert eval_main(["beir", str(sample), "--index", location, "--quiet", "--out", str(tmp_path / "out")]) == 0
    engine = json.loads((tmp_path / "out" / "beir-scifact-sample.json").read_text())
    local = run_beir(sample, index_dir=tmp_path / "folder", progress=False, embedder=embedder)
    assert engine["settings"]["index"] == location and engine["queries"] == 40
    for mine, theirs in zip(engine["results"], local.results):
        assert mine["mode"] == theirs.mode
        assert abs(mine["metrics"]["nDCG@10"] - theirs.metrics["nDCG@10"]) <= 0.02, (mine["mode"], mine["metrics"], theirs.metrics)
        assert mine["metrics"]["nDCG@10"] > 0.5


def test_the_ui_names_a_location_it_cannot_open_in_one_line(tmp_path, capsys):
    import ui

    assert ui.main(["--index", f"qdrant+local:{tmp_path / 'nothing'}"]) == 2
    assert capsys.readouterr().err == (f"error: no docqa index at qdrant+local:{tmp_path / 'nothing'}; build one with: "
                                       f"qa index PATH --index qdrant+local:{tmp_path / 'nothing'}\n")
    assert ui.main(["--index", "qdrant://db:6333"]) == 2
    assert "is not a Qdrant location" in capsys.readouterr().err


def test_other_chunking_is_refused_by_a_collection_before_anything_loads(tmp_path, embedder):
    from ingest.chunker import Chunking

    location = f"qdrant+local:{tmp_path / 'store'}"
    with make_builder(location, progress=False, embedder=embedder) as builder:
        builder([BUNDLED_CORPUS])
    with pytest.raises(IndexMismatch, match="was chunked with .*max_tokens=200.* not .*max_tokens=60.*--rebuild"):
        make_builder(location, current_settings(chunking=Chunking(max_tokens=60)), progress=False, embedder=embedder)
    with open_store(location) as store:
        assert store.count_passages() == 24
