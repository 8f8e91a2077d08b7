"""Split documents into sentence-aligned passages within a token budget."""
from __future__ import annotations

from typing import Callable, Sequence

from ingest.sentences import split_sentences
from ingest.types import Document, Passage, Span

TokenCounter = Callable[[Sequence[str]], list[int]]


def approximate_token_counts(texts: Sequence[str]) -> list[int]:
    """Word-piece estimate for when no tokenizer is at hand (about 1.3 pieces a word)."""
    return [int(len(text.split()) * 1.3) + 1 for text in texts]


class Chunker:
    """Pack whole sentences into passages of at most ``max_tokens``, repeating
    ``overlap_sentences`` at each boundary so no fact is cut from its context.

    Passages never cross a section boundary, and ``passage.text`` is always
    ``document.text[passage.start:passage.end]``.

    >>> from ingest.loader import DocumentLoader
    >>> doc = next(iter(DocumentLoader()(["ingest/corpus/003_43698ed40160f2b4.txt"])))
    >>> passages = Chunker(max_tokens=120)(doc)
    >>> all(p.text == doc.text[p.start:p.end] for p in passages)
    True
    """

    def __init__(self, max_tokens: int = 200, overlap_sentences: int = 1,
                 count_tokens: TokenCounter | None = None):
        if max_tokens < 8:
            raise ValueError("max_tokens must be at least 8")
        self.max_tokens = max_tokens
        self.overlap_sentences = max(0, overlap_sentences)
        self.count_tokens = count_tokens or approximate_token_counts

    @property
    def settings(self) -> dict:
        return {"max_tokens": self.max_tokens, "overlap_sentences": self.overlap_sentences, "splitter": "sentences-v1"}

    def __call__(self, document: Document) -> list[Passage]:
        regions = document.sections or (Span(0, len(document.text), ""),)
        sentences_by_region = [(region, self._sentences(document.text, region)) for region in regions]
        passages: list[Passage] = []
        for region, sentences in sentences_by_region:
            for start, end in self._pack(sentences):
                passages.append(Passage(
                    passage_id=f"{document.doc_id}:{len(passages)}",
                    doc_id=document.doc_id,
                    ordinal=len(passages),
                    start=start,
                    end=end,
                    text=document.text[start:end],
                    section=region.label,
                    urls=document.urls_between(start, end),
                ))
        return passages

    def _sentences(self, text: str, region: Span) -> list[tuple[Span, int]]:
        spans = split_sentences(text, region.start, region.end)
        counts = self.count_tokens([text[s.start:s.end] for s in spans]) if spans else []
        sized: list[tuple[Span, int]] = []
        for span, tokens in zip(spans, counts):
            if tokens <= self.max_tokens:
                sized.append((span, tokens))
            else:
                sized.extend(self._split_long(text, span, tokens))
        return sized

    def _split_long(self, text: str, span: Span, tokens: int) -> list[tuple[Span, int]]:
        """Cut an over-long sentence at word boundaries into roughly budget-sized pieces."""
        words = []
        position = span.start
        for word in text[span.start:span.end].split():
            begin = text.index(word, position)
            words.append((begin, begin + len(word)))
            position = begin + len(word)
        per_piece = max(1, int(len(words) * self.max_tokens / tokens * 0.9))
        pieces = [Span(words[i][0], words[min(i + per_piece, len(words)) - 1][1], "piece")
                  for i in range(0, len(words), per_piece)]
        counts = self.count_tokens([text[p.start:p.end] for p in pieces])
        return list(zip(pieces, counts))

    def _pack(self, sentences: list[tuple[Span, int]]) -> list[tuple[int, int]]:
        windows = []
        first = 0
        while first < len(sentences):
            last, total = first, 0
            while last < len(sentences) and (last == first or total + sentences[last][1] <= self.max_tokens):
                total += sentences[last][1]
                last += 1
            windows.append((sentences[first][0].start, sentences[last - 1][0].end))
            if last >= len(sentences):
                break
            first = max(first + 1, last - self.overlap_sentences)
        return windows
