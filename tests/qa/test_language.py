"""The hint for a question in a language the English models were not trained for."""
import pytest

from qa.language import language_hint


@pytest.mark.parametrize("question, language", [("Quand la société SenseTime a-t-elle été fondée ?", "French"),
                                                ("Wer hat die Firma SenseTime gegründet?", "German")])
def test_a_question_in_another_language_gets_a_hint_naming_it(question, language):
    assert language in language_hint(question) and "English" in language_hint(question)


def test_english_questions_get_no_hint():
    assert [language_hint(q) for q in ("How tall was Tad Lincoln?", "When was SenseTime founded?")] == ["", ""]


def test_an_english_question_about_foreign_names_gets_no_hint():
    # lingua's fast mode scores this one Spanish 0.61 and "Who designed the flag of Alberta?" Croatian.
    assert language_hint("When did SenseTime open its office in Buenos Aires?") == ""
    assert language_hint("Who designed the flag of Alberta?") == ""
