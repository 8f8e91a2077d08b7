"""How the eval matches answers (eval/matching.py): whole words after normalisation, SQuAD's exact
match, evidence found across whitespace, and content stems."""
from eval.matching import answer_in, content_stems, evidence_spans, normalize, same_answer


def test_normalising_folds_case_quotes_dashes_and_whitespace():
    assert normalize("  The  “Corwin”\u00a0Amendment – 1861 ") == 'the "corwin" amendment - 1861'
    assert normalize("ﬁle") == "file", "NFKC composes ligatures"


def test_an_answer_matches_as_whole_words_only():
    assert answer_in("Founded at MIT in 1861", "MIT") and not answer_in("a limited committee", "MIT")
    assert answer_in("It was co-founded in October 2014.", "october 2014")
    assert not answer_in("In 20145 it grew.", "2014") and not answer_in("anything", "  ")


def test_exact_match_drops_articles_and_punctuation_but_not_words():
    assert same_answer("the Corwin Amendment.", ["Corwin Amendment"])
    assert same_answer("1,200", ["1200"]) and same_answer("An apple", ["apple", "pear"])
    assert not same_answer("US$68.4 billion", ["68.4 billion"]) and not same_answer("x", [])


def test_evidence_is_found_across_any_whitespace():
    text = "SenseTime was\nco-founded  in October 2014. SenseTime was co-founded in October 2014."
    spans = evidence_spans(text, "SenseTime was co-founded in October 2014.")
    assert len(spans) == 2 and text[spans[1][0]:spans[1][1]] == "SenseTime was co-founded in October 2014."
    assert evidence_spans(text, "never said") == []


def test_content_stems_drop_function_words_and_keep_numbers():
    assert content_stems("How many founders did the company have in 2014?") == {"2014", "compani", "founder"}
    assert content_stems("the and of which") == set()
