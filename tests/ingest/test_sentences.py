"""Sentence spans (ingest/sentences.py): exact offsets into the text, abbreviations, initials,
quotes and line breaks, on made-up and on the bundled corpus's prose."""
from ingest import BUNDLED_CORPUS, DocumentLoader
from ingest.sentences import split_sentences


def sentences(text, *bounds):
    return [text[s.start:s.end] for s in split_sentences(text, *bounds)]


def test_sentences_respect_abbreviations_and_initials():
    text = "According to Gregory C. Allen of the U.S. centre, it is big. Next one! Another?"
    assert sentences(text) == ["According to Gregory C. Allen of the U.S. centre, it is big.", "Next one!", "Another?"]


def test_titles_times_and_lowercase_continuations_do_not_end_a_sentence():
    text = "Dr. Ito met Prof. Lam at 5 p.m. on Jan. 4. They spoke e.g. about rice. the end"
    assert sentences(text) == ["Dr. Ito met Prof. Lam at 5 p.m. on Jan. 4.", "They spoke e.g. about rice. the end"]


def test_closing_quotes_and_brackets_stay_with_their_sentence():
    text = 'He said "It works." (It did.) ¿Qué? «Oui.» Done'
    assert sentences(text) == ['He said "It works."', "(It did.)", "¿Qué?", "«Oui.» Done"]


def test_a_blank_line_or_a_short_line_ends_a_sentence_but_hard_wrapped_prose_does_not():
    wrapped = ("The estuary survey covered the whole northern shore of the bay and its\n"
               "salt marsh, from April to July.\nResults\nThe count was 412.\n\nnext paragraph")
    assert sentences(wrapped) == [
        "The estuary survey covered the whole northern shore of the bay and its\nsalt marsh, from April to July.",
        "Results", "The count was 412.", "next paragraph"]


def test_spans_are_trimmed_offsets_into_the_given_range():
    text = "Skip this.   First here.  Second here.   Not this."
    start, end = text.index("First"), text.index("Not")
    spans = split_sentences(text, start, end)
    assert [(s.start, s.end, s.label) for s in spans] == [
        (start, start + len("First here."), "sentence"),
        (text.index("Second"), text.index("Second") + len("Second here."), "sentence")]
    assert split_sentences("   \n  ") == [] and split_sentences("") == []


def test_on_the_bundled_corpus_sentences_tile_the_text_in_order_without_overlap():
    documents = list(DocumentLoader()([BUNDLED_CORPUS]))
    assert sum(len(split_sentences(document.text)) for document in documents) > 100
    for document in documents:
        spans = split_sentences(document.text)
        assert spans, document.source
        for before, after in zip(spans, spans[1:]):
            assert before.end <= after.start and document.text[before.end:after.start].strip() == ""
        for span in spans:
            piece = document.text[span.start:span.end]
            assert piece == piece.strip() and piece
    founding = next(d for d in documents if d.format == "wikitext")
    assert any(founding.text[s.start:s.end].startswith("SenseTime was co-founded in October 2014")
               for s in split_sentences(founding.text))
