"""A one-line hint for a question the model was not trained to read: its sentence model and
spaCy pipeline are English ones, so a French question is declined for its language, not its facts.

>>> language_hint("When was SenseTime founded?")
''
>>> language_hint("¿Cuándo se fundó SenseTime?")
'The question looks like Spanish; docqa reads English questions best, so try asking in English.'
"""
from __future__ import annotations

import re
from functools import lru_cache

# Below this confidence a language is a guess (short English questions score 0.6-0.7 as English).
MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _detector():
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


# English function words that other languages' short questions rarely hold ("a", "de", "die" do).
_ENGLISH_WORDS = frozenset("""when did does do is was were the of in its who whom what which how many much where why to
for and on at by with from has have had are this that""".split())
_WORD = re.compile(r"\w+")


def _reads_as_english(question: str) -> bool:
    """Two English function words or more: lingua's fast mode reads the names in a short English
    question as their own language ("... its office in Buenos Aires?": Spanish 0.61)."""
    return sum(word in _ENGLISH_WORDS for word in _WORD.findall(question.lower())) >= 2


def language_hint(question: str) -> str:
    """A hint naming the question's language where it is confidently not English, else ``""``."""
    if _reads_as_english(question):
        return ""
    top = next(iter(_detector().compute_language_confidence_values(question)), None)
    if top is None or top.language.name == "ENGLISH" or top.value < MIN_CONFIDENCE:
        return ""
    return f"The question looks like {top.language.name.title()}; docqa reads English questions best, so try asking in English."
