import collections
import json

import pytest

from eval.__main__ import main as eval_main
from eval.seeds import load_seed_questions, run_seed_eval, seed_qrels
from index import IndexStore
from ingest import BUNDLED_CORPUS

# A smoke gate: the seed set is small and the bundled corpus is 24 passages, so tuning never looks
# at it. Measured with the weights tuned on the dev splits: 4, 5 and 11 of 73 questions without a
# relevant passage in the top 5, and 23 answer sentences without an accepted answer (19 in the
# release before, whose ranking had no best-sentence step; 22 before short answers); two or three
# more are allowed. With the issue #20 sentence scorer: 22 answer misses, so at most 24.
MAX_MISSES_AT_5 = {"hybrid": 7, "bm25": 7, "dense": 14}
MAX_ANSWER_MISSES = 24


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


def test_seed_success_at_5_misses_stay_within_the_smoke_gate(seed_report):
    for result in seed_report.results:
        misses = sum(row["Success@5"] == 0 for row in result.per_query.values())
        assert misses <= MAX_MISSES_AT_5[result.mode], (result.mode, misses)
        assert result.metrics["Success@5"] > seed_report.floor["Success@5"] + 0.4, "far above a random ranking"


def test_answer_sentence_misses_stay_within_the_smoke_gate(seed_report):
    accuracy = seed_report.extra["answer accuracy (hybrid, k=5)"]
    assert round((1 - accuracy) * seed_report.queries) <= MAX_ANSWER_MISSES, seed_report.extra


def test_cli_prints_a_table_and_writes_json_and_png(seed_index, tmp_path, capsys):
    assert eval_main(["seeds", "--index", str(seed_index), "--quiet", "--out", str(tmp_path / "out"), "--modes", "bm25"]) == 0
    out = capsys.readouterr().out
    assert "seed questions: 73 queries" in out and "Success@5" in out and out.count("bm25") == 1
    assert "\nrandom " in out, "the random-ranking floor is printed under the table"
    report = json.loads((tmp_path / "out" / "seed-questions.json").read_text())
    assert report["results"][0]["mode"] == "bm25" and len(report["results"][0]["success_by_k"]) == 10
    assert (tmp_path / "out" / "seed-questions-success.png").read_bytes()[:4] == b"\x89PNG"
