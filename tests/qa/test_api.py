import json

import pytest

import qa.api
from index import IndexStore
from qa import QA, QuestionError
from qa.cli import main as cli
from support import WIKI_SEED


@pytest.fixture(scope="module")
def seed_qa(seed_index, embedder):
    return QA(IndexStore.open(seed_index), embedder)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_founding_question_top_hit_cites_the_wikipedia_seed(seed_qa, mode):
    answer = seed_qa.ask("When was SenseTime founded?", k=5, mode=mode)
    top = answer.hits[0]
    assert top.citation.source == WIKI_SEED
    assert "October 2014" in top.passage.text
    assert [h.rank for h in answer.hits] == [1, 2, 3, 4, 5]
    assert all(a.score >= b.score for a, b in zip(answer.hits, answer.hits[1:]))


def test_answer_sentence_and_every_citation_span_point_into_the_cleaned_document(seed_qa, seed_index):
    answer = seed_qa.ask("When was SenseTime founded?", k=5)
    texts = {d.doc_id: d.text for d in IndexStore.open(seed_index).documents()}
    assert "October 2014" in answer.answer
    cited = answer.answer_citation
    assert texts[cited.doc_id][cited.start:cited.end] == answer.answer
    assert cited.source == WIKI_SEED and cited.title == "SenseTime"
    for hit in answer.hits:
        assert texts[hit.citation.doc_id][hit.citation.start:hit.citation.end] == hit.passage.text


def test_news_hits_cite_title_url_and_date(seed_qa):
    hit = seed_qa.ask("Can SenseTime become a Chinese AI champion?", k=3).hits[0]
    assert hit.citation.source == "001_9d4cac1fec7e3850.txt"
    assert hit.citation.url == "https://www.ft.com/content/c735e0f3-5704-47b5-a76f-7a02d53a1525"
    assert hit.citation.published.startswith("2021-09-28")


def test_wiki_answer_cites_the_reference_url_of_its_sentence(seed_qa):
    answer = seed_qa.ask("Which computer scientist co-founded SenseTime in October 2014 with a CUHK professor?", k=5)
    assert "Xu Li" in answer.answer and answer.answer_citation.section == "History > 2014"
    assert answer.answer_citation.url == "http://fortune.com/40-under-40/xu-li-7/"


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_a_clear_error(seed_qa, question):
    with pytest.raises(QuestionError, match="empty"):
        seed_qa.ask(question)


def test_unknown_mode_is_a_clear_error(seed_qa):
    with pytest.raises(QuestionError, match="choose one of hybrid, dense, bm25"):
        seed_qa.ask("anything", mode="magic")


def test_stats(seed_qa):
    stats = seed_qa.stats()
    assert (stats.documents, stats.model, stats.dimension) == (5, "all-MiniLM-L6-v2", 384)
    assert stats.passages > 5


def test_module_level_ask_builds_the_default_index_once(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCQA_INDEX", str(tmp_path / "default"))
    monkeypatch.setattr(qa.api, "_default_qa", None)
    answer = qa.ask("When was SenseTime founded?", k=5)
    assert answer.hits[0].citation.source == WIKI_SEED and "October 2014" in answer.hits[0].passage.text
    version = IndexStore.open(tmp_path / "default").version
    qa.api._default_qa = None
    qa.ask("Who founded SenseTime?")
    assert IndexStore.open(tmp_path / "default").version == version, "a fresh default index is not rebuilt"


def test_cli_ask_json_and_text(seed_index, capsys):
    assert cli(["ask", "When was SenseTime founded?", "--index", str(seed_index), "--json", "-k", "3"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["hits"]) == 3 and payload["hits"][0]["citation"]["source"] == WIKI_SEED
    assert cli(["ask", "When was SenseTime founded?", "--index", str(seed_index)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Answer: ") and "[1] SenseTime" in out and f"{WIKI_SEED}:3 (lines 3-34" in out


def test_cli_errors_are_one_line_without_traceback(tmp_path, capsys):
    assert cli(["ask", "hello", "--index", str(tmp_path / "missing")]) == 2
    assert cli(["ask", " ", "--index", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines() == [
        f"error: no docqa index at {tmp_path / 'missing'}; build one with: qa index PATH --index {tmp_path / 'missing'}",
        "error: the question is empty; type a question about your documents"]


def test_cli_index_reports_counts(tmp_path, capsys):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "note.txt").write_text("Lab notes\n\nThe centrifuge was serviced on 3 May 2021 by Dana.")
    (corpus / "empty.txt").write_text("")
    assert cli(["index", str(corpus), "--index", str(tmp_path / "ix"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "1 documents, 1 passages" in captured.out and "embedded 1 with " in captured.out
    assert "reused 0" in captured.out
    assert "empty.txt: skipped: the file is empty" in captured.err


def test_ask_where_takes_text_clauses_or_a_scope_and_refuses_a_bad_one(scoped_index, embedder):
    from index.scope import Scope

    qa = QA(IndexStore.open(scoped_index), embedder)
    question = "How many nesting pairs did the survey count?"
    try:
        assert qa.ask(question, where="path=notes/kestrel.md").short == "42"
        assert qa.ask(question, where=Scope.parse(["format=pdf"])).short == "412"
        hits = qa.retrieve(question, k=8, where=["date>=2021", "date<2022", "tag!=python"])
        assert hits and {hit.citation.source for hit in hits} <= {"000_a9af21b14b31e59d.txt", "001_9d4cac1fec7e3850.txt"}
        with pytest.raises(QuestionError, match="does not parse"):
            qa.ask(question, where="format pdf")
        with pytest.raises(ValueError, match="not a date"):
            qa.retrieve(question, where=["date<yesterday"])
    finally:
        qa.close()
