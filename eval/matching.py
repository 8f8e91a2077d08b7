"""How answers are matched and paraphrases recognised: whole words, after normalisation.

>>> answer_in("Founded at MIT in 1861", "MIT"), answer_in("a limited committee", "MIT")
(True, False)
>>> sorted(content_stems("How many founders did the company have in 2014?"))
['2014', 'compani', 'founder']
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_TOKEN = re.compile(r"[^\W_]+(?:[.,'][^\W_]+)*")
# Function words: what remains after removing them is what a paraphrase must not share.
_FUNCTION_WORDS = frozenset("""
a about above after again against all am an and any are as at be been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here
hers him his how i if in into is it its itself just me more most my no nor not of off on once only or
other our out over own same she should so some such than that the their them then there these they this
those through to too under until up very was we were what when where which while who whom whose why will
with would you your yours many much one
""".split())


def normalize(text: str) -> str:
    """Case, quotes, dashes, Unicode composition and runs of whitespace made uniform."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_QUOTES).lower().split())


def answer_in(text: str, answer: str) -> bool:
    """Whether ``answer`` occurs in ``text`` as whole words, after ``normalize``."""
    needle = normalize(answer)
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", normalize(text)) is not None


def same_answer(span: str, answers) -> bool:
    """Whether ``span`` equals one of ``answers`` after ``normalize``, with punctuation and the
    articles a, an and the removed (SQuAD's exact match).

    >>> same_answer("the Corwin Amendment.", ["Corwin Amendment"]), same_answer("US$68.4 billion", ["68.4 billion"])
    (True, False)
    """
    def squash(text: str) -> str:
        words = re.sub(r"[^\w\s]", " ", normalize(text).replace(",", "").replace(".", "")).split()
        return " ".join(word for word in words if word not in ("a", "an", "the"))

    return any(squash(span) == squash(answer) for answer in answers)


def evidence_spans(text: str, evidence: str) -> list[tuple[int, int]]:
    """Every ``(start, end)`` of ``evidence`` in ``text``, a whitespace run matching any whitespace run."""
    pattern = r"\s+".join(re.escape(word) for word in evidence.split())
    return [(match.start(), match.end()) for match in re.finditer(pattern, text)]


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def content_stems(text: str) -> set[str]:
    """Stemmed words of ``text`` that carry content: function words dropped, numbers kept."""
    words = [word for word in _TOKEN.findall(normalize(text)) if word not in _FUNCTION_WORDS]
    return set(_stemmer().stemWords(words))
