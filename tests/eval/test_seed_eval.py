import collections
import json

import pytest

from eval.__main__ import main as eval_main
from eval.seeds import load_seed_questions, run_seed_eval, seed_qrels
from index import IndexStore
from ingest import BUNDLED_CORPUS

# Just under the scores measured when the eval set was written (see README, "Retrieval quality").
MIN_RECALL_AT_5 = {"hybrid": 0.92, "bm25": 0.93, "dense": 0.85}


def test_eval_set_is_large_covers_every_document_and_the_hard_kinds():
    questions = load_seed_questions()
    assert len(questions) >= 60 and len({q.qid for q in questions}) == len(questions)
    assert {q.source for q in questions} == {p.name for p in BUNDLED_CORPUS.iterdir()}
    kinds = collections.Counter(q.kind for q in questions)
    assert kinds["infobox"] + kinds["template"] >= 5 and kinds["frontmatter"] >= 5 and kinds["paraphrase"] >= 8


def test_every_question_has_a_relevant_passage_in_its_gold_document(seed_index):
    questions = load_seed_questions()
    qrels = seed_qrels(questions, IndexStore.open(seed_index))
    assert set(qrels) == {q.qid for q in questions}
    infobox_only = [q for q in questions if q.kind in {"infobox", "template"}]
    store = IndexStore.open(seed_index)
    sections = {p.passage_id: p.section for d in store.documents() for p, _ in store.passages_of(d.doc_id)}
    assert any(all(sections[pid] == "Infobox" for pid in qrels[q.qid]) for q in infobox_only)


@pytest.fixture(scope="module")
def seed_report(seed_index):
    return run_seed_eval(seed_index, progress=False)


def test_seed_recall_at_5_stays_above_its_threshold(seed_report):
    for result in seed_report.results:
        assert result.metrics["Recall@5"] >= MIN_RECALL_AT_5[result.mode], result


def test_answer_sentence_accuracy_stays_above_its_threshold(seed_report):
    (accuracy,) = seed_report.extra.values()
    assert accuracy >= 0.74  # 0.767 when the answer scorer was tuned


def test_cli_prints_a_table_and_writes_json_and_png(seed_index, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DOCQA_INDEX", str(tmp_path / "default"))
    assert eval_main(["seeds", "--quiet", "--out", str(tmp_path / "out"), "--modes", "bm25"]) == 0
    out = capsys.readouterr().out
    assert "seed questions: 73 queries" in out and "Recall@5" in out and out.count("bm25") == 1
    report = json.loads((tmp_path / "out" / "seed-questions.json").read_text())
    assert report["results"][0]["mode"] == "bm25" and len(report["results"][0]["recall_curve"]) == 10
    assert (tmp_path / "out" / "seed-questions-recall.png").read_bytes()[:4] == b"\x89PNG"
