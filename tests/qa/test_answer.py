"""The answer-sentence scorer on real sentences of the bench documents, with the real model."""
from qa.answer import AnswerExtractor
from qa.types import Citation, Hit
from ingest.types import Passage


def _hits(title: str, *passages: str) -> list[Hit]:
    hits = []
    for rank, text in enumerate(passages, start=1):
        passage = Passage(f"p{rank}", "d1", rank, 0, len(text), text)
        citation = Citation(source="doc.txt", title=title, section="", url="", start=0, end=len(text), doc_id="d1")
        hits.append(Hit(rank=rank, score=1.0 / rank, passage=passage, citation=citation))
    return hits


def test_an_infobox_line_whose_label_the_question_names_wins_over_a_sentence_that_only_repeats_it(embedder):
    # From the Articles of Confederation article (dev q112): both name the ratification; only the
    # infobox line's value is the date asked for.
    hits = _hits("Articles of Confederation",
                 "Congress began to move for ratification of the Articles of Confederation in 1777:",
                 "Date ratified: March 1, 1781. Location: Maryland.")
    chosen = AnswerExtractor(embedder)("When were the Articles of Confederation ratified?", hits)
    assert chosen.sentence == "Date ratified: March 1, 1781." and chosen.short == "March 1, 1781"


def test_a_capitalised_word_opening_a_sentence_is_not_the_place_asked_for(embedder):
    # From the Aruba article (dev q110): "Collectively" opens a sentence, it is not a town; the old
    # score gave it the answer-kind bonus and chose its sentence.
    hits = _hits("Aruba",
                 "Collectively, Aruba and the other Dutch islands in the Caribbean are often called the Dutch "
                 "Caribbean.",
                 "The seat of government is in Oranjestad, on the south-western coast.")
    question = "Which town is the seat of government of the Dutch Caribbean island?"
    candidates = AnswerExtractor(embedder).candidates(question, hits)
    found = {candidate.short.text: candidate.kind_found for candidate in candidates if candidate.short}
    assert found == {"Collectively": False, "Oranjestad": True}


def test_a_person_that_shares_the_questions_words_is_not_the_person_asked_for(embedder):
    # From the Actrius article (dev q024): the rules read "Catalan Film Actress" as a name, and the
    # question's own "Catalan" gave it the answer-kind bonus over the director's sentence.
    hits = _hits("Actrius", "1997, won 'Best Catalan Film Actress' at Butaca Awards, shared by Núria Espert, "
                 "Rosa Maria Sardà, Anna Lizaran, and Mercè Pons")
    question = "Who was behind the camera for the 1997 Catalan movie with no men in its cast?"
    [candidate] = AnswerExtractor(embedder).candidates(question, hits)
    assert (candidate.short.text, candidate.kind_found) == ("Catalan Film Actress", False)
