"""Follow-up questions: a question whose subject is a pronoun or missing takes the subject of the
conversation's last turn, for retrieval. No generative model: spaCy's parse (the pipeline
``qa.span`` already loads) names the earlier question's subject, and rules substitute it.

>>> first = rewrite("What is SenseTime?")
>>> first.searched, first.rewritten
('What is SenseTime?', False)
>>> rewrite("When was it founded?", [first.turn()]).searched
'When was SenseTime founded?'
>>> rewrite("And its headquarters?", ["What is SenseTime?", "When was it founded?"]).searched
"And SenseTime's headquarters?"

The rules, in order:

1. Without an earlier question that names a subject, a question is searched as asked.
2. A question that names a subject of its own is searched as asked: a proper noun heading a noun
   phrase before the pronoun, or as a subject ("Is it true that *SenseTime* makes chips?"). A
   name after it ("What position does it hold at *Taggart Transcontinental*?") or one that only
   qualifies a noun ("its *Kyoto* office") is not the question's subject.
3. The first third-person pronoun (it, they, them, he, she, him) becomes the subject, a
   possessive one (its, their, his, her) the subject's possessive, and a generic phrase ("this
   company", "that person", "the firm") the subject.
4. An elliptical follow-up ("And the headquarters?", "What about revenue?") without a pronoun
   gets "of SUBJECT" after its noun phrase.

The subject of a turn is the first named entity of its searched question that is not a date or
a number, else its first proper-noun phrase, else its subject noun phrase (not a wh-word or a
pronoun). "he", "she" and their forms prefer a person: a person named in the last question, else
the short answer of a "Who ...?" question.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from qa.retriever import MAX_QUESTION_CHARS, QuestionError
from qa.span import parse

# How many earlier questions are read: a conversation's subject is in its last few turns, and the
# time taken stays bounded however long a history a client sends.
MAX_HISTORY_TURNS = 8

_PERSONAL = frozenset({"it", "they", "them", "he", "she", "him"})
_POSSESSIVE = frozenset({"its", "their", "his", "her"})
_PERSON_PRONOUNS = frozenset({"he", "she", "him", "his", "her"})
# "this company", "that survey": a generic phrase the last subject stands for. After "the", only
# nouns for an organisation: "the report" or "the study" more often mean a new thing.
_COMPANY_NOUNS = ("company", "firm", "organization", "organisation", "startup", "corporation")
_GENERIC_NOUNS = _COMPANY_NOUNS + ("business", "group", "institute", "institution", "university", "lab",
                                   "laboratory", "city", "country", "person", "man", "woman", "project",
                                   "product", "survey", "study", "paper", "report")
_GENERIC = re.compile(r"\b(?:(?:this|that) (?:" + "|".join(_GENERIC_NOUNS) + r")|the (?:" + "|".join(_COMPANY_NOUNS)
                      + r"))\b('s)?", re.IGNORECASE)
_ELLIPSIS = re.compile(r"^\s*(and|what about|how about)\s+(.*?)\s*\?*\s*$", re.IGNORECASE)
_NOT_SUBJECT_ENTITIES = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT"})
_WH_WORDS = frozenset({"what", "who", "whom", "which", "when", "where", "why", "how", "whose"})
# Proper nouns in these roles only qualify another noun ("its Kyoto office"): not the question's subject.
_MODIFIER_DEPS = frozenset({"compound", "amod", "nmod"})


@dataclass(frozen=True)
class Turn:
    """One question of a conversation: as asked, as searched, and its short answer ("" if none).

    >>> Turn("Who founded SenseTime?", short="Tang Xiao'ou").searched
    'Who founded SenseTime?'
    """

    question: str
    searched: str = ""      # the question retrieval used; "" means as asked
    short: str = ""         # the turn's short answer, which a later "he" or "she" may mean

    def __post_init__(self):
        if not self.searched:
            object.__setattr__(self, "searched", self.question)


@dataclass(frozen=True)
class Rewrite:
    """A question as asked and as searched; ``subject`` is what was carried over ("" if nothing)."""

    question: str
    searched: str
    subject: str = ""

    @property
    def rewritten(self) -> bool:
        return self.searched != self.question

    def turn(self, short: str = "") -> Turn:
        """This question as a turn of the conversation, for the next question's history."""
        return Turn(self.question, self.searched, short or "")


def turns(history: Sequence[Turn | str] | None) -> tuple[Turn, ...]:
    """``history`` (earlier questions oldest first, as turns or plain strings) as turns, each plain
    question resolved against those before it, so a chain of follow-ups keeps its subject."""
    if isinstance(history, (str, Turn)):
        history = [history]
    resolved: list[Turn] = []
    for earlier in list(history or ())[-MAX_HISTORY_TURNS:]:
        if isinstance(earlier, Turn):
            resolved.append(earlier)
        elif not isinstance(earlier, str):
            raise QuestionError(f"a history holds earlier questions (str) or qa.followup.Turn, "
                                f"not {type(earlier).__name__}")
        elif earlier.strip():
            # An over-long earlier question is read as far as a question may go.
            resolved.append(rewrite(earlier[:MAX_QUESTION_CHARS], resolved).turn())
    return tuple(resolved)


def rewrite(question: str, history: Sequence[Turn | str] | None = None) -> Rewrite:
    """``question`` with the subject of the conversation's last turn put where a pronoun stands or
    the subject is missing; as asked when it names its own subject, or nothing earlier names one."""
    earlier = turns(history)
    if not question.strip() or not earlier:
        return Rewrite(question, question)
    doc = parse(question)
    reference = _first_reference(doc)
    if _names_a_subject(doc, reference):
        return Rewrite(question, question)
    subject = _conversation_subject(earlier)
    person = _conversation_person(earlier) or subject
    subject = subject or person
    if not subject:
        return Rewrite(question, question)
    if reference is None:
        searched = _completed_ellipsis(question, subject)
        return Rewrite(question, searched, subject) if searched != question else Rewrite(question, question)
    carried = person if reference.kind == "personal" else subject
    return Rewrite(question, _substituted(question, reference, carried), carried)


def subject_of(question: str) -> str:
    """The main entity of a question: its first named entity that is not a date or a number, else
    its first proper-noun phrase, else its subject noun phrase; "" when it has none.

    >>> subject_of("What is SenseTime?"), subject_of("When was it founded?")
    ('SenseTime', '')
    """
    doc = parse(question)
    for entity in doc.ents:
        if entity.label_ not in _NOT_SUBJECT_ENTITIES:
            # The noun phrase the name is in, where there is one: "the Kestrel survey", not "Kestrel".
            chunk = next((c for c in doc.noun_chunks if c.start <= entity.start and entity.end <= c.end), entity)
            return _trimmed(chunk)
    for chunk in doc.noun_chunks:
        if any(t.pos_ == "PROPN" for t in chunk):
            return _trimmed(chunk)
    for chunk in doc.noun_chunks:
        if chunk.root.dep_ in ("nsubj", "nsubjpass") and not _is_pronoun_or_wh(chunk.root):
            return _trimmed(chunk)
    return ""


@dataclass(frozen=True)
class _Reference:
    """Where a question refers back: ``text[start:end]`` is a pronoun or a generic phrase, ``token``
    the index of its first token; ``kind`` is "personal" (he, she...), "thing" or "generic"."""

    start: int
    end: int
    token: int
    kind: str
    possessive: bool


def _first_reference(doc) -> _Reference | None:
    """The question's first third-person pronoun or generic phrase ("this company"), if any."""
    found: list[_Reference] = []
    for token in doc:
        word = token.lower_
        if token.tag_ in ("PRP", "PRP$") and (word in _PERSONAL or word in _POSSESSIVE):
            possessive = token.tag_ == "PRP$" or (word in _POSSESSIVE and word != "her")
            found.append(_Reference(token.idx, token.idx + len(token), token.i,
                                    "personal" if word in _PERSON_PRONOUNS else "thing", possessive))
            break
    generic = _GENERIC.search(doc.text)
    if generic:
        span = doc.char_span(generic.start(), generic.end(), alignment_mode="expand")
        found.append(_Reference(generic.start(), generic.end(), span.start if span is not None else 0, "generic",
                                bool(generic.group(1))))
    return min(found, key=lambda r: r.start) if found else None


def _names_a_subject(doc, reference: _Reference | None) -> bool:
    """Whether the question names its subject itself: a proper noun heading a noun phrase (not one
    that only qualifies a noun, as "Kyoto" in "its Kyoto office", nor a date's "May") that comes
    before the reference, or that is a subject ("Is it true that *SenseTime* makes chips?"). A
    question without a reference names one where any such noun is in it."""
    for token in doc:
        if token.pos_ != "PROPN" or token.dep_ in _MODIFIER_DEPS or token.ent_type_ in _NOT_SUBJECT_ENTITIES:
            continue
        if reference is None or token.i < reference.token or token.dep_ in ("nsubj", "nsubjpass"):
            return True
    return False


def _conversation_subject(earlier: Sequence[Turn]) -> str:
    for turn in reversed(earlier):
        subject = subject_of(turn.searched)
        if subject:
            return subject
    return ""


def _conversation_person(earlier: Sequence[Turn]) -> str:
    """The person a "he" or "she" most likely means: one named in the last question, else the
    short answer of a last question that asked "who"."""
    last = earlier[-1]
    people = [e.text for e in parse(last.searched).ents if e.label_ == "PERSON"]
    if people:
        return people[0]
    if last.short and last.searched.strip().lower().startswith("who"):
        return last.short
    return ""


def _substituted(question: str, reference: _Reference, subject: str) -> str:
    """The question with its first reference replaced by the subject. Only the first is: a later
    pronoun then refers back within the question ("When did SenseTime open its Kyoto office?")."""
    name = _possessive(subject) if reference.possessive else subject
    return question[:reference.start] + name + question[reference.end:]


def _completed_ellipsis(question: str, subject: str) -> str:
    """ "And the headquarters?" -> "And the headquarters of SenseTime?" """
    match = _ELLIPSIS.match(question)
    if not match or not match.group(2):
        return question
    lead, rest = match.group(1), match.group(2)
    return f"{lead[0].upper()}{lead[1:]} {rest} of {subject}?"


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def _trimmed(span) -> str:
    """A span without a leading wh-word ("which company" is no name); "the" stays ("the Zorblatt Institute")."""
    tokens = list(span)
    while tokens and tokens[0].lower_ in _WH_WORDS:
        tokens = tokens[1:]
    if not tokens:
        return ""
    return span.doc[tokens[0].i:tokens[-1].i + 1].text


def _is_pronoun_or_wh(token) -> bool:
    return token.pos_ == "PRON" or token.lower_ in _WH_WORDS
