"""Whether to decline a question: the signals that the chosen sentence does not answer it, and the rule.

The answer extractor (``qa.answer.AnswerExtractor``) picks the best sentence of the top passages
and hands it here with the question; ``abstention_signals`` measures it, and ``declines`` decides.
Plausible unanswerable questions ("How many hotel rooms does Aruba have?") score like answerable
ones on every retrieval signal (the best sentence's cosine and score, the margin to the next
passage's, the question's rare words in the top passages: none separated them on dev), so the rule
checks what the answer claims to be instead. spaCy parses only the chosen sentence, and only for a
"how many", "who" or money question (``qa.span.parse`` caches it for the short answer's finder).

- ``names_missing``: a name or number of the question (a capitalised word other than the first, or
  a word with a digit: "Beverly Hills", "2024", "Tad") that neither the chosen passage, its section
  nor its document's title holds. An answer about "Lincoln" is no answer about "Tad Lincoln".
  (Two names, or one number: a paraphrase often renames one thing.)
- ``count_tied``: for "how many X", whether spaCy's parse ties the answer's number to X: "eight
  regions" counts regions, not hotel rooms.
- ``money_found``: for a question about a cost, price, budget, wage or worth, whether the short
  answer is an amount of money (a currency beside it, or spaCy's MONEY): "14" is no cost.
- ``type_contradicted``: for a "who" question, whether spaCy's entities call the short answer
  a thing that names no one ("Saturn V": a PRODUCT; a DATE).

>>> from qa.span import ShortSpan
>>> signals = abstention_signals("How many hotel rooms does Aruba have?",
...     "For census purposes, Aruba is divided into eight regions, which have no administrative functions:",
...     ShortSpan(42, 54, "eight regions", "number"), "Aruba", "", 0.9, True)
>>> signals.count_tied, declines(signals, min_support=0.643)
(False, True)
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from qa.span import TYPED_KINDS, ShortSpan, answer_kind, parse

_WORD = re.compile(r"\w+")
# A name or number in the question: a capitalised word, or one with a digit.
_NAME = re.compile(r"\b(?:[A-Z][\w'’.-]*|\w*\d\w*)")
_NOT_NAMES = frozenset("""
i a an the what which who whom whose when where why how is are was were do does did has have had can could will would
in on at of for from to by with into and or as
""".split())
_HOW_MANY = re.compile(r"\bhow many\s+((?:[\w'’-]+\s+){0,3})", re.IGNORECASE)
_STOP_PHRASE = frozenset("""
is are was were do does did has have had can could will would should may might be been of in on at for from to by
with into across per that which who the a an
""".split())


@dataclass(frozen=True)
class AbstentionSignals:
    """What the chosen sentence says about answering the question; ``None`` where a signal does not
    apply (no "how many" asked, no "who" asked)."""

    support: float                # the sentence's answer score (``qa.answer.AnswerWeights.score``)
    kind_found: bool              # a date, number, person or place question's kind was found in it
    typed: bool                   # the question asks for a date, number, person or place
    names_missing: tuple[str, ...]   # the question's names and numbers its passage and document lack
    count_tied: bool | None       # "how many X": the answer's number counts X
    type_contradicted: bool | None   # "who": spaCy's entities call the short answer something else
    money_found: bool | None = None  # a cost, price or budget asked: the short answer is money


def _prefixes(text: str, length: int = 4) -> set[str]:
    return {word[:length] for word in _WORD.findall(text.lower())}


def question_names(question: str) -> list[str]:
    """The question's names and numbers, less its opening word.

    >>> question_names("When did the Academy of Motion Picture Arts and Sciences move to Beverly Hills?")
    ['Academy', 'Motion', 'Picture', 'Arts', 'Sciences', 'Beverly', 'Hills']
    """
    names = []
    for match in _NAME.finditer(question):
        if not question[:match.start()].strip():
            continue   # the opening word is capitalised as any sentence's is
        for word in _WORD.findall(match.group()):
            if word.lower() not in _NOT_NAMES and word.lower() != "s":
                names.append(word)
    return names


def asked_nouns(question: str) -> list[str]:
    """The words of "how many X" up to its verb: "hotel rooms" for "How many hotel rooms does ...".

    >>> asked_nouns("How many hotel rooms does Aruba have?"), asked_nouns("When was it built?")
    (['hotel', 'rooms'], [])
    """
    match = _HOW_MANY.search(question)
    if not match:
        return []
    words = []
    for word in match.group(1).split():
        if word.lower() in _STOP_PHRASE:
            break
        words.append(word.lower())
    return words


def _count_tied(question: str, sentence: str, short: ShortSpan | None, held: set[str]) -> bool | None:
    """For "how many X": True where the short answer's number counts X, False where it counts
    another noun and X is nowhere in the passage, None where the parse cannot tell (a bare number:
    "Active: 87,000.", "over 30 of us") or X is in the passage (it may count X in other words)."""
    asked = {word[:4] for word in asked_nouns(question)}
    if not asked or short is None or short.kind != "number":
        return None
    tokens = parse(sentence).char_span(short.start, short.end, alignment_mode="expand")
    if tokens is None or not len(tokens):
        return None
    counted = [t for t in tokens if t.pos_ in ("NOUN", "PROPN")] or _counted_noun(tokens)
    if not counted:
        return None
    if any(t.lower_[:4] in asked for t in counted):
        return True
    return None if asked & {word[:4] for word in held} else False


def _counted_noun(tokens) -> list:
    """The noun a number outside it counts or measures: its head ("eight regions", where the finder
    kept only "eight"), or the noun of "the age of 17"."""
    number = next((t for t in reversed(tokens) if t.like_num or t.pos_ == "NUM"), tokens[-1])
    head = number.head
    if head.pos_ in ("NOUN", "PROPN") and head.i != number.i and number.dep_ in ("nummod", "quantmod", "compound"):
        return [head]
    if number.dep_ == "pobj" and head.dep_ == "prep" and head.head.pos_ == "NOUN" and head.head.i < number.i:
        return [head.head]
    return []


# Labels that never name a person or body. GPE, LOC and FAC are left out: spaCy's small model calls
# organisations places ("According to Bloomberg": GPE), and the seed set answers one so.
_NOT_WHO_LABELS = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT", "PRODUCT",
                             "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"})


def _type_contradicted(question: str, sentence: str, short: ShortSpan | None) -> bool | None:
    """For a "who" question, whether spaCy's entities over the short answer are all of a kind that
    names no one ("Saturn V": PRODUCT; "Christmas and the Dande": DATE). A common noun with no
    entity ("police") is not contradicted: the parse says nothing about it."""
    if short is None or answer_kind(question) != "person":
        return None
    labels = {entity.label_ for entity in parse(sentence).ents
              if entity.start_char < short.end and short.start < entity.end_char}
    return bool(labels) and labels <= _NOT_WHO_LABELS


_MONEY_ASKED = re.compile(r"\b(?:how much\b.*\b(?:cost|costs|price|spend|spent|pay|paid|worth|raise|raised|budget|"
                          r"earn|earned|charge|charged|fee|fees|salary)|(?:cost|price|budget|salary|wage|fee|revenue|"
                          r"income|profit|worth)s? (?:of|for|in|at)\b)", re.IGNORECASE)
_CURRENCY = re.compile(r"[$€£¥₹]|\b(?:US|USD|EUR|GBP|dollars?|euros?|pounds?|yen|yuan|renminbi|francs?|kroon|"
                       r"rupees?|pesos?|florins?|cents?)\b", re.IGNORECASE)


def _money_found(question: str, sentence: str, short: ShortSpan | None) -> bool | None:
    """For a question about an amount of money, whether the short answer is one: a currency in it
    or just beside it ("US$410 million", "65 euros"), or spaCy's MONEY entity over it."""
    if not _MONEY_ASKED.search(question):
        return None
    if short is None:
        return False
    if _CURRENCY.search(sentence[max(0, short.start - 4):short.end + 9]):
        return True
    return any(entity.label_ == "MONEY" and entity.start_char < short.end and short.start < entity.end_char
               for entity in parse(sentence).ents)


def abstention_signals(question: str, sentence: str, short: ShortSpan | None, title: str, passage: str,
                       support: float, kind_found: bool) -> AbstentionSignals:
    """The signals for answering ``question`` with ``sentence`` (of ``passage``, in the document
    ``title``; ``short``: the short answer in it, offsets into ``sentence``)."""
    held = _prefixes(f"{title} {passage} {sentence}", 5)
    missing = tuple(name for name in question_names(question) if name.lower()[:5] not in held)
    return AbstentionSignals(support, kind_found, answer_kind(question) in TYPED_KINDS,
                             missing, _count_tied(question, sentence, short, held), _type_contradicted(question, sentence, short),
                             _money_found(question, sentence, short))


@dataclass(frozen=True)
class AbstentionRule:
    """When to decline, chosen on the question set's dev split (``python -m eval abstain`` prints the
    choice in-sample and cross-validated; docs/benchmarks.md, "Declining, this session").

    Figures: the 32 unanswerable and 98 answerable dev questions, each check alone beside the support
    threshold and the answer-kind check (which decline 8 and lose no answer).

    Attributes:
        min_names_missing: decline when this many of the question's names are missing, or any
            number ("2024", "8K"): 12 declined, no answer lost. One missing name alone is often a
            paraphrase ("the Garden State" for New Jersey, "leave Earth" for space): 17 declined for
            2 right answers. None: no check of names.
        check_count: decline a "how many X" answer that counts another noun, X being nowhere in its
            passage: 10 declined for 1 right answer ("Over three million copies" for "units").
        check_type: decline a "who" answer that spaCy's entities call something else: 9 declined,
            no answer lost (the seed set's "police" has no entity and stays).
        check_money: decline a cost, price or budget answered with no amount of money: 12 declined,
            no answer lost.
    """

    min_names_missing: int | None = 2
    check_count: bool = True
    check_type: bool = True
    check_money: bool = True


def declines(signals: AbstentionSignals, min_support: float, rule: AbstentionRule = AbstentionRule()) -> bool:
    """Whether to say "Not found in these documents." rather than answer: the answer kind asked for
    is missing, a check of ``rule`` fails, or the support is below ``min_support`` (the answer
    score's threshold, ``qa.answer.MIN_SCORE``, which ``python -m eval tune`` sets)."""
    if signals.typed and not signals.kind_found:
        return True
    names = signals.names_missing
    if rule.min_names_missing is not None and names and (
            len(names) >= rule.min_names_missing or any(ch.isdigit() for name in names for ch in name)):
        return True
    if rule.check_count and signals.count_tied is False:
        return True
    if rule.check_type and signals.type_contradicted:
        return True
    if rule.check_money and signals.money_found is False:
        return True
    return signals.support < min_support
