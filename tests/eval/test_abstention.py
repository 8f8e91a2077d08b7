"""Choosing and cross-validating the decline rule (eval/abstention.py) over signals of real sentences."""
from eval.abstention import AskedQuestion, choose, cross_validate, score
from qa.abstain import AbstentionRule, abstention_signals
from qa.span import SpacyShortAnswerFinder

ARUBA = "For census purposes, Aruba is divided into eight regions, which have no administrative functions:"


def asked(qid, question, sentence, answerable, right):
    short = SpacyShortAnswerFinder()(question, sentence, "Aruba")
    signals = abstention_signals(question, sentence, short, "Aruba", sentence, 1.0, kind_found=True)
    return AskedQuestion(qid, question, answerable, right, signals)


QUESTIONS = [asked(f"a{i}", "How many regions is Aruba divided into?", ARUBA, True, True) for i in range(5)] + \
    [asked(f"u{i}", "How many hotel rooms does Aruba have?", ARUBA, False, False) for i in range(5)]


def test_the_chosen_rule_declines_what_the_count_check_catches_and_keeps_the_answers():
    chosen = choose(QUESTIONS)
    assert (chosen.unanswerable_declined, chosen.right_lost) == (5, 0) and chosen.rule.check_count
    assert score(QUESTIONS, AbstentionRule(check_count=False), 0.643).unanswerable_declined == 0


def test_cross_validation_scores_each_question_once_per_shuffle():
    result = cross_validate(QUESTIONS, folds=5, shuffles=2)
    assert result["unanswerable_declined_share"] == 1.0 and result["answer_accuracy_cost"] == 0.0
