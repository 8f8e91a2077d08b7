"""Follow-ups: the rewrite rules on spaCy's real parse, and a conversation over the bundled seeds."""
import pytest

from index import IndexStore
from qa import QA
from qa.followup import MAX_HISTORY_TURNS, Rewrite, Turn, rewrite, subject_of, turns
from qa.retriever import QuestionError
from support import WIKI_SEED

SENSETIME = ["What is SenseTime?"]


@pytest.mark.parametrize("question, searched", [
    ("When was it founded?", "When was SenseTime founded?"),
    ("Who leads it?", "Who leads SenseTime?"),
    ("And its headquarters?", "And SenseTime's headquarters?"),
    ("What is its revenue?", "What is SenseTime's revenue?"),
    ("Where are they based?", "Where are SenseTime based?"),
    ("What products does this company sell?", "What products does SenseTime sell?"),
    ("When did the company go public?", "When did SenseTime go public?"),
    ("And the headquarters?", "And the headquarters of SenseTime?"),
    ("What about revenue?", "What about revenue of SenseTime?"),
])
def test_a_pronoun_or_a_missing_subject_takes_the_last_turns_subject(question, searched):
    rewritten = rewrite(question, SENSETIME)
    assert rewritten == Rewrite(question, searched, "SenseTime") and rewritten.rewritten


def test_only_the_first_reference_is_replaced_and_a_name_after_it_or_that_only_modifies_is_no_subject():
    assert rewrite("When did it open its Kyoto office?", SENSETIME).searched == "When did SenseTime open its Kyoto office?"
    assert rewrite("When did the company open its Kyoto office?", SENSETIME).searched == \
        "When did SenseTime open its Kyoto office?"
    assert rewrite("Where did it open an office in Kyoto?", SENSETIME).searched == "Where did SenseTime open an office in Kyoto?"
    assert rewrite("What position does she hold at Taggart Transcontinental?", ["Who is Dagny Taggart?"]).searched == \
        "What position does Dagny Taggart hold at Taggart Transcontinental?"
    assert rewrite("Who proposed in May 1786 that it revise the Articles?", ["What is Congress?"]).searched == \
        "Who proposed in May 1786 that Congress revise the Articles?", "a date's month names no subject"
    assert rewrite("What did the report say about Kyoto?", SENSETIME).rewritten is False, "'the report' is a new thing"


@pytest.mark.parametrize("question", [
    "Who founded SenseTime?",                    # names its subject
    "Is it true that SenseTime makes chips?",    # "it" is no reference: the subject is named
    "What is the capital of France?",
    "How many nesting pairs did the Kestrel survey count?",
    "Who is Tang Xiao'ou and when was he born?",
])
def test_a_question_that_names_its_subject_is_searched_as_asked(question):
    assert rewrite(question, SENSETIME) == Rewrite(question, question) and not rewrite(question, SENSETIME).rewritten


@pytest.mark.parametrize("history", [None, [], ["", "   "], ["hello?"], ["When was it founded?"]])
def test_without_an_earlier_subject_a_follow_up_is_searched_as_asked(history):
    assert rewrite("When was it founded?", history) == Rewrite("When was it founded?", "When was it founded?")


def test_a_chain_of_follow_ups_keeps_its_subject_and_a_new_subject_replaces_it():
    assert rewrite("Who leads it?", ["What is SenseTime?", "When was it founded?"]).searched == "Who leads SenseTime?"
    assert turns(["What is SenseTime?", "When was it founded?"])[-1] == Turn("When was it founded?",
                                                                              "When was SenseTime founded?")
    assert rewrite("Where is it?", ["What is SenseTime?", "What is the Zorblatt Institute?"]).searched == \
        "Where is the Zorblatt Institute?"
    assert rewrite("When was it done?", ["What does the Kestrel survey say about nesting pairs?"]).searched == \
        "When was the Kestrel survey done?"


def test_he_and_she_prefer_a_person_named_or_answered_last():
    after_who = [Turn("Who founded SenseTime?", short="Tang Xiao'ou")]
    assert rewrite("When was he born?", after_who).searched == "When was Tang Xiao'ou born?"
    assert rewrite("Where is her office?", ["Who is Aiko Tanaka?"]) == \
        Rewrite("Where is her office?", "Where is Aiko Tanaka's office?", "Aiko Tanaka")
    assert rewrite("When was it founded?", after_who).searched == "When was SenseTime founded?"


def test_subject_of_a_question():
    assert [subject_of(q) for q in ("What is SenseTime?", "What is the capital of France?", "When was it founded?")] == \
        ["SenseTime", "France", ""]


def test_history_is_bounded_and_checked():
    long_history = ["What is SenseTime?"] + ["What is the Zorblatt Institute?"] * 50
    assert len(turns(long_history)) == MAX_HISTORY_TURNS
    assert rewrite("Where is it?", ["x" * 100_000, "What is SenseTime?"]).searched == "Where is SenseTime?"
    assert rewrite("When was it founded?", "What is SenseTime?").searched == "When was SenseTime founded?"
    with pytest.raises(QuestionError, match="history holds earlier questions"):
        rewrite("When was it founded?", [42])


def test_a_follow_up_on_the_seeds_retrieves_the_founding_passage_and_answers(seed_index, embedder):
    qa = QA(IndexStore.open(seed_index), embedder)
    first = qa.ask("What is SenseTime?")
    assert not first.rewritten and first.searched_for == "What is SenseTime?"
    answer = qa.ask("When was it founded?", history=[first.question])
    assert answer.question == "When was it founded?" and answer.searched_for == "When was SenseTime founded?"
    assert answer.rewritten and answer.to_dict()["searched_for"] == "When was SenseTime founded?"
    assert answer.hits[0].citation.source == WIKI_SEED and answer.short == "October 2014"
    assert answer.answer_citation.source == WIKI_SEED and "October 2014" in answer.answer
    chained = qa.ask("Who leads it?", history=[Turn(first.question), Turn(answer.question, answer.searched_for)])
    assert chained.searched_for == "Who leads SenseTime?"
