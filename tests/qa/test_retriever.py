"""Hybrid ranking's best-sentence step: for questions, not for statements (claims, keywords)."""
import pytest

from index import IndexStore
from qa.retriever import Retriever, asks_a_question


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
