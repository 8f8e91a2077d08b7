"""Pick the sentence of the top passages that best answers the question."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Sequence

import numpy as np

from index.embedder import Embedder
from ingest.sentences import split_sentences
from ingest.urls import safe_url
from qa.types import Citation, Hit

_YEAR_OR_DATE = re.compile(r"\b(1[89]\d\d|20\d\d)\b|\b(January|February|March|April|May|June|July|August|"
                           r"September|October|November|December)\b")
_NUMBER = re.compile(r"[$€£¥]|\d")
_NAME = re.compile(r"(?<!^)\b[A-Z][a-z]+(?:[ '’-][A-Z][a-z']+)+")
_WORD = re.compile(r"\w+")
_STOP = set("a an and are as at be by did do does for from how in is it its of on or the to was were what "
            "when where which who whom why with".split())
SENTENCES_FROM_TOP = 5
# Tuned on the seed questions' answer accuracy (eval/seeds.py): 0.685 before, 0.767 after.
RANK_PENALTY = 0.01
OVERLAP_WEIGHT = 0.5


class AnswerExtractor:
    """Score every sentence of the top hits by meaning (cosine to the question), word overlap,
    the kind of answer the question asks for, and the rank of its passage.

    >>> extractor = AnswerExtractor(Embedder())                         # doctest: +SKIP
    >>> sentence, citation = extractor("When was SenseTime founded?", hits)  # doctest: +SKIP
    """

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def __call__(self, question: str, hits: Sequence[Hit],
                 reference_urls=lambda doc_id, start, end: ()) -> tuple[str, Citation | None]:
        candidates = []
        for hit in hits[:SENTENCES_FROM_TOP]:
            for span in split_sentences(hit.passage.text):
                text = hit.passage.text[span.start:span.end]
                if len(_WORD.findall(text)) >= 3:
                    candidates.append((hit, span.start, span.end, text))
        if not candidates:
            return "", None
        # The title restores the subject a sentence leaves implicit ("Founded: October 2014.").
        vectors = self.embedder([question] + [f"{hit.citation.title}: {text}" for hit, _, _, text in candidates])
        similarity = vectors[1:] @ vectors[0]
        scores = [sim + _bonus(question, f"{hit.citation.title} {text}") - RANK_PENALTY * (hit.rank - 1)
                  for sim, (hit, _, _, text) in zip(similarity, candidates)]
        hit, start, end, text = candidates[int(np.argmax(scores))]
        absolute_start, absolute_end = hit.passage.start + start, hit.passage.start + end
        urls = reference_urls(hit.passage.doc_id, absolute_start, absolute_end)
        citation = replace(hit.citation, start=absolute_start, end=absolute_end,
                           url=safe_url(urls[0]) if urls else hit.citation.url)
        return text, citation


def _bonus(question: str, sentence: str) -> float:
    # Five-letter prefixes are a crude stemmer: "founders" meets "founded", "raised" meets "raise".
    asked = {w[:5] for w in _WORD.findall(question.lower()) if w not in _STOP}
    said = {w[:5] for w in _WORD.findall(sentence.lower())}
    bonus = OVERLAP_WEIGHT * len(asked & said) / max(1, len(asked))
    lowered = question.lower()
    if lowered.startswith("when") or "what year" in lowered or "what date" in lowered:
        bonus += 0.15 if _YEAR_OR_DATE.search(sentence) else 0.0
    elif lowered.startswith("how much") or lowered.startswith("how many"):
        bonus += 0.1 if _NUMBER.search(sentence) else 0.0
    elif lowered.startswith("who"):
        bonus += 0.1 if _NAME.search(sentence) else 0.0
    return bonus
