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
2. A question that names a subject of its own (a proper noun heading a noun phrase: "Is it true
   that *SenseTime* makes chips?") is searched as asked; a name that only modifies a noun ("its
   *Kyoto* office") is not a subject.
3. A third-person pronoun (it, they, them, he, she, him) becomes the subject, a possessive one
   (its, their, his, her) the subject's possessive, and a generic phrase ("this company", "the
   firm", "that person") the subject.
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
_GENERIC_NOUNS = ("company", "firm", "organization", "organisation", "startup", "business", "corporation",
                  "group", "institute", "institution", "university", "lab", "laboratory", "city", "country",
                  "person", "man", "woman", "project", "product", "survey", "study", "paper", "report")
_GENERIC = re.compile(r"\b(?:this|that|the) (?:" + "|".join(_GENERIC_NOUNS) + r")\b('s)?", re.IGNORECASE)
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
    if _names_a_subject(doc):
        return Rewrite(question, question)
    subject = _conversation_subject(earlier)
    person = _conversation_person(earlier) or subject
    if not subject and not person:
        return Rewrite(question, question)
    searched = _substituted(doc, subject or person, person or subject)
    if searched == question:
        searched = _completed_ellipsis(question, subject or person)
    if searched == question:
        return Rewrite(question, question)
    carried = person if _PERSON_PRONOUNS & {t.lower_ for t in doc} else subject
    return Rewrite(question, searched, carried or subject)


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


def _names_a_subject(doc) -> bool:
    """Whether the question names a subject of its own: a proper noun heading a noun phrase."""
    return any(t.pos_ == "PROPN" and t.dep_ not in _MODIFIER_DEPS for t in doc)


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


def _substituted(doc, subject: str, person: str) -> str:
    """The question with its first referring pronoun or generic phrase replaced by the subject.
    Only the first is: a later pronoun then refers back within the question ("When did SenseTime
    open its Kyoto office?")."""
    pieces: list[str] = []
    replaced = False
    for token in doc:
        word = token.lower_
        if not replaced and token.tag_ in ("PRP", "PRP$") and (word in _PERSONAL or word in _POSSESSIVE):
            name = person if word in _PERSON_PRONOUNS else subject
            if token.tag_ == "PRP$" or (word in _POSSESSIVE and word != "her"):
                name = _possessive(name)
            pieces.append(name + token.whitespace_)
            replaced = True
        else:
            pieces.append(token.text_with_ws)
    text = "".join(pieces)
    if replaced:
        return text
    return _GENERIC.sub(lambda m: _possessive(subject) if m.group(1) else subject, text, count=1)


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
