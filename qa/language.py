"""A one-line hint for a question the model was not trained to read: its sentence model and
spaCy pipeline are English ones, so a French question is declined for its language, not its facts.

>>> language_hint("When was SenseTime founded?")
''
>>> language_hint("¿Cuándo se fundó SenseTime?")
'The question looks like Spanish; docqa reads English questions best, so try asking in English.'
"""
from __future__ import annotations

from functools import lru_cache

# Below this confidence a language is a guess (short English questions score 0.6-0.7 as English).
MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _detector():
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


def language_hint(question: str) -> str:
    """A hint naming the question's language where it is confidently not English, else ``""``."""
    top = next(iter(_detector().compute_language_confidence_values(question)), None)
    if top is None or top.language.name == "ENGLISH" or top.value < MIN_CONFIDENCE:
        return ""
    return f"The question looks like {top.language.name.title()}; docqa reads English questions best, so try asking in English."
