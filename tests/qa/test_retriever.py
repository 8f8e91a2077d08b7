"""Retrieval (qa/retriever.py) over a real index of the bundled corpus: the three modes, the
sentence step, citations, and one-line refusals of a bad question, k or mode.

Hybrid ranking's best-sentence step: for questions, not for statements (claims, keywords)."""
import pytest

from index import IndexStore
from qa.retriever import (MAX_QUESTION_CHARS, QuestionError, Retriever, asks_a_question, check_k, check_mode,
                          check_question)
from support import WIKI_SEED


@pytest.fixture(scope="module")
def store(seed_index):
    return IndexStore.open(seed_index)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_ranks_the_founding_passage_first_with_falling_scores(store, embedder, mode):
    hits = Retriever(store, embedder, mode=mode)("When was SenseTime founded?", k=5)
    assert [hit.rank for hit in hits] == [1, 2, 3, 4, 5]
    assert hits[0].citation.source == WIKI_SEED
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    assert len({hit.passage.passage_id for hit in hits}) == 5


def test_citations_point_at_the_passage_in_the_cleaned_text(store, embedder):
    texts = {d.doc_id: d.text for d in store.documents()}
    for hit in Retriever(store, embedder)("Who founded SenseTime?", k=5):
        assert texts[hit.citation.doc_id][hit.citation.start:hit.citation.end] == hit.passage.text
        assert hit.citation.section == hit.passage.section and hit.citation.title


def test_many_questions_at_once_rank_as_one_at_a_time(store, embedder):
    retriever = Retriever(store, embedder)
    questions = ["When was SenseTime founded?", "Where is SenseTime based?"]
    together = retriever.retrieve_many(questions, k=3)
    alone = [retriever(question, k=3) for question in questions]
    assert [[h.passage.passage_id for h in hits] for hits in together] == \
           [[h.passage.passage_id for h in hits] for hits in alone]


def test_the_sentence_step_reorders_only_the_head_of_hybrids_ranking(store, embedder):
    with_step = Retriever(store, embedder, sentence_weight=0.5).rank_rows(["When was SenseTime founded?"], k=40)[0]
    without = Retriever(store, embedder, sentence_weight=0.0).rank_rows(["When was SenseTime founded?"], k=40)[0]
    assert sorted(row for row, _ in with_step[:30]) == sorted(row for row, _ in without[:30])
    assert [row for row, _ in with_step[30:]] == [row for row, _ in without[30:]]
    scores = [score for _, score in with_step]
    assert scores == sorted(scores, reverse=True)


def test_bad_questions_k_and_modes_are_one_line_errors(store, embedder):
    assert check_question("  When?  ") == "When?"
    for bad, message in [("", "empty"), ("   ", "empty"), (42, "must be a string"),
                         ("x" * (MAX_QUESTION_CHARS + 1), "the limit is 2,000")]:
        with pytest.raises(QuestionError, match=message):
            check_question(bad)
    for bad in (0, -1, True, 2.5, "3"):
        with pytest.raises(QuestionError, match="k must be a positive int"):
            check_k(bad)
    with pytest.raises(QuestionError, match="unknown retrieval mode 'fuzzy'; choose one of hybrid, dense, bm25"):
        check_mode("fuzzy")
    with pytest.raises(QuestionError):
        Retriever(store, embedder, mode="fuzzy")
    with pytest.raises(QuestionError, match="empty"):
        Retriever(store, embedder)("", k=3)


@pytest.mark.parametrize("query, asks", [
    ("When was SenseTime founded?", True),
    ("who founded sensetime", True),
    ("Is SenseTime based in Hong Kong", True),
    ("0-dimensional biomaterials show inductive properties.", False),   # a SciFact train claim
    ("SenseTime founders", False),
])
def test_a_question_is_told_from_a_statement(query, asks):
    assert asks_a_question(query) == asks


def test_the_best_sentence_step_ranks_questions_and_leaves_statements_to_hybrid(seed_index, embedder):
    store = IndexStore.open(seed_index)
    stepped, plain = Retriever(store, embedder), Retriever(store, embedder, sentence_weight=0)
    claim = "SenseTime was founded in 2014 by researchers from the Chinese University of Hong Kong."
    assert stepped.rank_rows([claim], 10) == plain.rank_rows([claim], 10)
    question = "When was SenseTime founded?"
    assert stepped.rank_rows([question], 10) != plain.rank_rows([question], 10)
    store.close()
