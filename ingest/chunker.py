"""Split documents into sentence-aligned passages within a token budget."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from ingest.sentences import split_sentences
from ingest.types import Document, Passage, Span

TokenCounter = Callable[[Sequence[str]], list[int]]
# No model token covers more than a few characters of prose; windows this long always need cutting.
_MAX_CHARS_PER_TOKEN = 6
_COUNT_BATCH = 512
# Passages past the model's input (256 word pieces for MiniLM, 512 for BERT-sized models) are cut
# off unseen; fewer than 8 tokens hold no fact. Repeating more than a few sentences only copies text.
MIN_TOKENS, MAX_TOKENS = 8, 512
MAX_OVERLAP_SENTENCES = 8
# In a document with more than _MANY_TINY_SECTIONS sections this small (a heading over a line),
# each run of them is packed into passages together: 60,000 headings over a sentence each gave
# 60,000 passages before. A document with fewer keeps every section's own passages and label.
_TINY_SECTION_SHARE = 8
_MANY_TINY_SECTIONS = 100
_PATH_SEPARATOR = " > "


def check_chunking(max_tokens: int, overlap_sentences: int) -> None:
    """``ValueError`` naming the valid range for a passage size or overlap out of it.

    >>> check_chunking(200, 1000)
    Traceback (most recent call last):
    ValueError: overlap must be from 0 to 8 sentences (qa index --overlap), not 1000
    """
    if not MIN_TOKENS <= max_tokens <= MAX_TOKENS:
        raise ValueError(f"max_tokens must be from {MIN_TOKENS} to {MAX_TOKENS} (qa index --max-tokens), not {max_tokens}")
    if not 0 <= overlap_sentences <= MAX_OVERLAP_SENTENCES:
        raise ValueError(f"overlap must be from 0 to {MAX_OVERLAP_SENTENCES} sentences (qa index --overlap), "
                         f"not {overlap_sentences}")


SPLITTER = "sentences-v1"


@dataclass(frozen=True)
class Chunking:
    """How documents are cut into passages; checked on construction.

    >>> Chunking(max_tokens=4)
    Traceback (most recent call last):
    ValueError: max_tokens must be from 8 to 512 (qa index --max-tokens), not 4
    """

    max_tokens: int = 200
    overlap_sentences: int = 1
    splitter: str = SPLITTER

    def __post_init__(self) -> None:
        check_chunking(self.max_tokens, self.overlap_sentences)

    @classmethod
    def from_dict(cls, data: Mapping) -> "Chunking":
        """A manifest's record (``{"max_tokens": .., "overlap_sentences": .., "splitter": ..}``)."""
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


def approximate_token_counts(texts: Sequence[str]) -> list[int]:
    """Word-piece estimate for when no tokenizer is at hand (about 1.3 pieces a word)."""
    return [int(len(text.split()) * 1.3) + 1 for text in texts]


class Chunker:
    """Pack whole sentences into passages of at most ``max_tokens``, repeating
    ``overlap_sentences`` at each boundary so no fact is cut from its context.

    Passages never cross a section boundary, nor a page's (PDF), and ``passage.text`` is always
    ``document.text[passage.start:passage.end]``.

    >>> from ingest.loader import DocumentLoader
    >>> doc = next(iter(DocumentLoader()(["ingest/corpus/003_43698ed40160f2b4.txt"])))
    >>> passages = Chunker(max_tokens=120)(doc)
    >>> all(p.text == doc.text[p.start:p.end] for p in passages)
    True
    """

    def __init__(self, max_tokens: int = 200, overlap_sentences: int = 1,
                 count_tokens: TokenCounter | None = None):
        check_chunking(max_tokens, overlap_sentences)
        self.max_tokens = max_tokens
        self.overlap_sentences = overlap_sentences
        self.count_tokens = count_tokens or approximate_token_counts

    @classmethod
    def of(cls, chunking: Chunking, count_tokens: TokenCounter | None = None) -> "Chunker":
        return cls(chunking.max_tokens, chunking.overlap_sentences, count_tokens)

    @property
    def settings(self) -> Chunking:
        return Chunking(self.max_tokens, self.overlap_sentences)

    def __call__(self, document: Document) -> list[Passage]:
        regions = _split_at_pages(document.sections or (Span(0, len(document.text), ""),), document.pages)
        sentences_by_region = [(region, self._sentences(document.text, region)) for region in regions]
        passages: list[Passage] = []
        for label, sentences in self._merge_tiny(document, sentences_by_region):
            for start, end in self._pack(sentences):
                passages.append(Passage(
                    passage_id=f"{document.doc_id}:{len(passages)}",
                    doc_id=document.doc_id,
                    ordinal=len(passages),
                    start=start,
                    end=end,
                    text=document.text[start:end],
                    section=label,
                    urls=document.urls_between(start, end),
                    page=document.page_at(start),
                ))
        return passages

    def _merge_tiny(self, document: Document, sentences_by_region: list[tuple[Span, list[tuple[Span, int]]]]
                    ) -> list[tuple[str, list[tuple[Span, int]]]]:
        """In a document of many tiny sections, runs of them on one page as one region each, up to a passage's budget, labelled
        with the heading path they share; any other section stays a region of its own. A run's
        sentences are split again over all of it, so the headings between its sections count too."""
        tiny = max(1, self.max_tokens // _TINY_SECTION_SHARE)
        if sum(sum(count for _, count in sentences) < tiny for _, sentences in sentences_by_region) <= _MANY_TINY_SECTIONS:
            return [(region.label, sentences) for region, sentences in sentences_by_region]
        # (covered span, its sentences or None for a run of several sections, tokens)
        runs: list[tuple[Span, list[tuple[Span, int]] | None, int]] = []
        run_page, run_open = None, False
        for region, sentences in sentences_by_region:
            tokens = sum(count for _, count in sentences)
            page = document.page_at(region.start)
            if tokens < tiny and run_open and run_page == page and runs[-1][2] + tokens < self.max_tokens:
                covered, _, run_tokens = runs[-1]
                runs[-1] = (Span(covered.start, region.end, _shared_path(covered.label, region.label)), None,
                            run_tokens + tokens + 1)   # + 1 for the heading between
                continue
            runs.append((region, sentences, tokens))
            run_page, run_open = page, tokens < tiny
        return [(covered.label, self._sentences(document.text, covered) if sentences is None else sentences)
                for covered, sentences, _ in runs]

    def _sentences(self, text: str, region: Span) -> list[tuple[Span, int]]:
        spans = [window for sentence in split_sentences(text, region.start, region.end)
                 for window in self._windows(text, sentence)]
        return self._fit(text, list(zip(spans, self._counts(text, spans))))

    def _counts(self, text: str, spans: list[Span]) -> list[int]:
        counts: list[int] = []
        for offset in range(0, len(spans), _COUNT_BATCH):
            counts += self.count_tokens([text[s.start:s.end] for s in spans[offset:offset + _COUNT_BATCH]])
        return counts

    def _windows(self, text: str, span: Span) -> list[Span]:
        """Cut a sentence longer than any passage could hold into windows, before it meets the
        tokenizer: a 5 MB line with no full stop must not become one 3-million-token call."""
        limit = self.max_tokens * _MAX_CHARS_PER_TOKEN
        if span.end - span.start <= limit:
            return [span]
        windows, start = [], span.start
        while start < span.end:
            end = min(start + limit, span.end)
            if end < span.end:
                space = text.rfind(" ", start + limit // 2, end)
                end = space if space > start else end
            windows.append(Span(start, end, "piece"))
            start = end
            while start < span.end and text[start].isspace():
                start += 1
        return windows

    def _fit(self, text: str, sized: list[tuple[Span, int]]) -> list[tuple[Span, int]]:
        """Halve every over-budget piece at the space nearest its middle (mid-word if it has none)
        until each fits: the token cap holds for every passage, whatever the input. All the halves of
        a round are counted in one batch: a 5 MB line made 17k one-piece tokenizer calls before."""
        while True:
            over = [index for index, (span, tokens) in enumerate(sized)
                    if tokens > self.max_tokens and span.end - span.start >= 2]
            if not over:
                return sized
            halves = {index: self._halves(text, sized[index][0]) for index in over}
            pieces = [half for index in over for half in halves[index]]
            counted = iter(zip(pieces, self._counts(text, pieces)))
            replaced = {index: [next(counted) for _ in halves[index]] for index in over}
            sized = [item for index, pair in enumerate(sized) for item in replaced.get(index, [pair])]

    @staticmethod
    def _halves(text: str, span: Span) -> list[Span]:
        middle = (span.start + span.end) // 2
        quarter = (span.end - span.start) // 4
        space = text.rfind(" ", middle - quarter, middle + quarter)
        cut = space if space > span.start else middle
        left_end = cut
        while left_end > span.start and text[left_end - 1].isspace():
            left_end -= 1
        right_start = cut
        while right_start < span.end and text[right_start].isspace():
            right_start += 1
        return [h for h in (Span(span.start, left_end, "piece"), Span(right_start, span.end, "piece")) if h.end > h.start]

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


def _shared_path(first: str, second: str) -> str:
    """The heading path two section labels share: ``A > B`` and ``A > C`` share ``A``."""
    shared = []
    for left, right in zip(first.split(_PATH_SEPARATOR), second.split(_PATH_SEPARATOR)):
        if left != right:
            break
        shared.append(left)
    return _PATH_SEPARATOR.join(shared)


def _split_at_pages(regions: Sequence[Span], pages: Sequence[Span]) -> tuple[Span, ...]:
    """``regions`` cut wherever a page begins, each piece keeping its region's label."""
    if not pages:
        return tuple(regions)
    cuts = sorted(page.start for page in pages)
    pieces = []
    for region in regions:
        start = region.start
        for cut in cuts:
            if start < cut < region.end:
                pieces.append(Span(start, cut, region.label))
                start = cut
        pieces.append(Span(start, region.end, region.label))
    return tuple(pieces)
