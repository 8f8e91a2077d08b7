"""Citations that a reader can check in the file: each span of cleaned text a hit or an answer
cites gets its file, its lines there (a PDF's page, a Word file's paragraph) and its text, from the
document's source map (``ingest.types.SourceMark``), read once per document and kept."""
from __future__ import annotations

from dataclasses import replace

from index.store import DocumentOrigin, StoredPassage
from ingest.types import source_lines
from ingest.urls import safe_url
from qa.types import Citation

# Origins kept, by the marks they hold together (a long text file has one a line): far more than
# the documents of any one answer's hits, and a few tens of MB at most.
_KEPT_MARKS = 500_000
_UNKNOWN = object()


class Citer:
    """Makes the citations of one store's passages and of spans inside them.

    >>> from qa.api import default_qa
    >>> citer = Citer(default_qa().store)
    >>> hit = default_qa().retrieve("When was SenseTime founded?", k=1)[0]
    >>> cited = citer.span(hit.citation, hit.passage.start, hit.passage.start + 20, hit.passage.text[:20])
    >>> cited.text == hit.passage.text[:20] and cited.line_start <= cited.line_end
    True
    """

    def __init__(self, store):
        self.store = store
        self._origins: dict[str, DocumentOrigin | None] = {}
        self._kept_marks = 0

    def origin(self, doc_id: str) -> DocumentOrigin | None:
        known = self._origins.get(doc_id, _UNKNOWN)
        if known is not _UNKNOWN:
            return known
        origin = self.store.origin(doc_id)
        marks = 1 + (len(origin.source_map) if origin else 0)
        if self._kept_marks + marks > _KEPT_MARKS:
            self._origins, self._kept_marks = {}, 0   # replaced, not cleared: another thread may be reading it
        self._origins[doc_id] = origin
        self._kept_marks += marks
        return origin

    def passage(self, stored: StoredPassage) -> Citation:
        """The citation of a whole passage."""
        passage = stored.passage
        citation = Citation(
            source=stored.source, title=stored.title, section=passage.section,
            url=safe_url(stored.url) or safe_url(passage.urls[0] if passage.urls else ""),
            clean_start=passage.start, clean_end=passage.end, doc_id=passage.doc_id, published=stored.published,
            page=passage.page,
        )
        return self.span(citation, passage.start, passage.end, passage.text)

    def span(self, citation: Citation, start: int, end: int, text: str, url: str | None = None) -> Citation:
        """``citation`` narrowed to ``[start, end)`` of the same document's cleaned text, which is ``text``."""
        origin = self.origin(citation.doc_id)
        narrowed = without_lines(citation, start, end, text, url)
        if origin is None:
            return narrowed
        lines = source_lines(origin.source_map, start, end)
        if origin.format == "docx":
            return replace(narrowed, path=origin.path, paragraph=lines[0] if lines else None)
        return replace(narrowed, path=origin.path, article=origin.page,
                       line_start=lines[0] if lines else None, line_end=lines[1] if lines else None)


def without_lines(citation: Citation, start: int, end: int, text: str, url: str | None = None) -> Citation:
    """``citation`` narrowed to ``[start, end)`` where no source map is at hand: it keeps no lines."""
    return replace(citation, clean_start=start, clean_end=end, text=text, url=citation.url if url is None else url,
                   line_start=None, line_end=None, paragraph=None)

