"""Gradio web UI: ask questions, read cited passages, add documents.

    python ui.py                      # the bundled SenseTime corpus on http://127.0.0.1:7860
    python ui.py --index DIR --port 8000
"""
from __future__ import annotations

import argparse
import hmac
import html
import json
import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from index.backends import AUTO, CHOICES, BackendUnavailable
from index.embedder import ModelUnavailable
from index.scope import Scope, ScopeError
from index.settings import Settings
from index.store import IndexStoreError
from ingest.urls import safe_url
from qa.api import CONCURRENT_QUESTIONS, QA, default_index_dir
from qa.followup import Turn
from qa.library import DEFAULT_MAX_UPLOAD_MB, DocumentLibrary, NothingToIndex
from qa.retriever import DEFAULT_MODE, MODES, QuestionError
from qa.types import Answer, Citation, Hit


try:
    import gradio as gr
except ImportError as error:
    raise ImportError("the web UI needs gradio: pip install -e '.[ui]'") from error

EXAMPLE_COUNT = 4
MAX_SHOWN_TURNS = 50        # the conversation keeps its last turns on the page (follow-ups read fewer)

# Colours are variables set for Gradio's light and dark schemes (Gradio puts "dark" on <body> when the
# browser prefers it), each text colour on its own background: 4.5:1 or more (WCAG AA) in both.
CSS = """
.gradio-container {
  --dq-box-bg: #eef2ff; --dq-box-border: #c7d2fe; --dq-label: #4338ca; --dq-strong: #111827; --dq-body: #374151;
  --dq-muted: #475569; --dq-link: #4338ca; --dq-mark-bg: #fde68a; --dq-mark-fg: #111827;
  --dq-short-bg: #c7d2fe; --dq-short-fg: #312e81; --dq-card-bg: #ffffff; --dq-card-border: #e5e7eb;
  --dq-none-bg: #f9fafb; --dq-error-bg: #fef2f2; --dq-error-border: #fecaca; --dq-error-fg: #991b1b;
  --dq-info-bg: #f0fdf4; --dq-info-border: #bbf7d0; --dq-info-fg: #166534; --dq-row-border: #f1f5f9;
  --dq-question-bg: #e0e7ff; --dq-question-fg: #1e1b4b;
  max-width: 1080px !important; margin: auto;
}
.dark .gradio-container {
  --dq-box-bg: #1e1b4b; --dq-box-border: #4338ca; --dq-label: #c7d2fe; --dq-strong: #f9fafb; --dq-body: #e5e7eb;
  --dq-muted: #cbd5e1; --dq-link: #a5b4fc; --dq-mark-bg: #78350f; --dq-mark-fg: #fef3c7;
  --dq-short-bg: #3730a3; --dq-short-fg: #e0e7ff; --dq-card-bg: #111827; --dq-card-border: #374151;
  --dq-none-bg: #1f2937; --dq-error-bg: #450a0a; --dq-error-border: #991b1b; --dq-error-fg: #fecaca;
  --dq-info-bg: #052e16; --dq-info-border: #166534; --dq-info-fg: #bbf7d0; --dq-row-border: #1f2937;
  --dq-question-bg: #312e81; --dq-question-fg: #e0e7ff;
}
#title h1 {margin-bottom: 0;} #title p {color: var(--dq-muted); margin-top: 4px;}
.answer-box {border: 1px solid var(--dq-box-border); background: var(--dq-box-bg); color: var(--dq-body);
             border-radius: 12px; padding: 16px 18px;}
.answer-box .label {font-size: 12px; letter-spacing: .06em; text-transform: uppercase; color: var(--dq-label); font-weight: 600;}
.answer-box .sentence {font-size: 19px; line-height: 1.45; margin: 6px 0 10px; color: var(--dq-strong);}
.answer-box .context {font-size: 14px; color: var(--dq-body); line-height: 1.55;}
.cite {font-size: 13px; color: var(--dq-muted); margin-top: 8px;}
.cite a, .meta a, .source-head a {color: var(--dq-link);}
mark {background: var(--dq-mark-bg); color: var(--dq-mark-fg); padding: 1px 2px; border-radius: 3px;}
.card {border: 1px solid var(--dq-card-border); border-radius: 12px; padding: 14px 16px; margin: 10px 0;
       background: var(--dq-card-bg); color: var(--dq-body);}
.card-head {display: flex; gap: 10px; align-items: baseline;}
.card .num {background: #4f46e5; color: white; border-radius: 999px; min-width: 24px; height: 24px; display: inline-flex;
            align-items: center; justify-content: center; font-size: 13px; font-weight: 600;}
.card .title {font-weight: 600; color: var(--dq-strong); flex: 1;}
.card .source {font-size: 12px; color: var(--dq-muted);}
.answer-box b.short, .card b.short {color: var(--dq-short-fg); background: var(--dq-short-bg); border-radius: 3px; padding: 0 2px;}
.answer-box.none {border-color: var(--dq-card-border); background: var(--dq-none-bg);}
.answer-box.none .label {color: var(--dq-muted);}
.card .meta {font-size: 13px; color: var(--dq-muted); margin: 4px 0 8px 34px;}
.card .text {font-size: 14px; line-height: 1.55; color: var(--dq-body); margin-left: 34px; white-space: pre-wrap;}
.message {border-radius: 10px; padding: 12px 14px; border: 1px solid var(--dq-error-border); background: var(--dq-error-bg);
          color: var(--dq-error-fg);}
.message.info {border-color: var(--dq-info-border); background: var(--dq-info-bg); color: var(--dq-info-fg);}
.source-view {border: 1px solid var(--dq-card-border); border-radius: 12px; padding: 14px 16px; background: var(--dq-card-bg);
              color: var(--dq-body);}
.source-view .source-head {font-size: 13px; color: var(--dq-muted); margin-bottom: 8px;}
.source-view .source-text {max-height: 420px; overflow-y: auto; white-space: pre-wrap; font-size: 14px; line-height: 1.55;}
.turn {margin: 0 0 18px;}
.turn-question {margin-left: auto; width: fit-content; max-width: 80%; background: var(--dq-question-bg);
                color: var(--dq-question-fg); border-radius: 14px 14px 4px 14px; padding: 8px 14px; font-size: 15px;}
.searched {text-align: right; font-size: 13px; color: var(--dq-muted); margin: 4px 2px 0;}
.turn-answer {margin-top: 8px;}
.hidden-control {display: none !important;}
button.open-source {background: none; border: none; padding: 0; color: var(--dq-link); cursor: pointer; text-decoration: underline;}
.doc-row {border-bottom: 1px solid var(--dq-row-border); align-items: center;}
"""

# Clicking a citation's source asks the server for the document view: the hidden textbox carries
# a `SourceRequest` as JSON and the hidden button sends it (Gradio events start from its own components).
SOURCE_VIEW_JS = """
<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest(".open-source");
  if (!link) return;
  event.preventDefault();
  const box = document.querySelector("#source-request textarea, #source-request input");
  box.value = JSON.stringify({doc_id: link.dataset.doc, start: Number(link.dataset.start), end: Number(link.dataset.end)});
  box.dispatchEvent(new Event("input", {bubbles: true}));
  setTimeout(() => document.querySelector("#source-open").click(), 50);
});
</script>
"""
SCROLL_TO_SPAN_JS = "() => { const m = document.querySelector('#source-view mark'); if (m) m.scrollIntoView({block: 'center'}); }"


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def message_html(text: str, kind: str = "error") -> str:
    return f'<div class="message {kind}">{_escape(text)}</div>'


def _citation_line(cited: Citation) -> str:
    # The source opens the whole document at the cited span (SOURCE_VIEW_JS turns the click into a request).
    source = (f'<button type="button" class="open-source" data-doc="{_escape(cited.doc_id)}" data-start="{cited.start}" '
              f'data-end="{cited.end}" title="Show it in its document"><b>{_escape(cited.source)}</b></button>')
    # Where to check it in the file: path:line (a PDF's page, a Word file's paragraph).
    parts = [source, f'<code class="where">{_escape(cited.location())}</code>']
    parts += [_escape(cited.section or "lead section"), f"chars {cited.start}–{cited.end}"]
    if cited.published:
        parts.append(_escape(cited.published[:10]))
    url = safe_url(cited.url)
    if url:
        parts.append(f'<a href="{_escape(url)}" target="_blank" rel="noopener noreferrer">{_escape(url[:70])}{"…" if len(url) > 70 else ""}</a>')
    return " · ".join(parts)


def _with_short_in_bold(text: str, offset: int, answer: Answer) -> str:
    """``text`` (which starts at ``offset`` in the answer's document) with the short answer in bold."""
    short = answer.short_citation
    if short is None or not (offset <= short.start and short.end <= offset + len(text)):
        return _escape(text)
    start, end = short.start - offset, short.end - offset
    return f"{_escape(text[:start])}<b class=\"short\">{_escape(text[start:end])}</b>{_escape(text[end:])}"


def _highlighted(hit: Hit, answer: Answer) -> str:
    cited = answer.answer_citation
    text = hit.passage.text
    if cited and cited.doc_id == hit.passage.doc_id and hit.passage.start <= cited.start and cited.end <= hit.passage.end:
        start, end = cited.start - hit.passage.start, cited.end - hit.passage.start
        return (f"{_escape(text[:start])}<mark>{_with_short_in_bold(text[start:end], cited.start, answer)}</mark>"
                f"{_escape(text[end:])}")
    return _escape(text)


def answer_html(answer: Answer, element_id: str = "answer-box") -> str:
    """The answer card: the sentence with the short answer in bold, its passage with the sentence
    marked, and its citation. ``element_id`` names the latest answer's card; earlier turns' have none."""
    box_id = f' id="{element_id}"' if element_id else ""
    if not answer.hits:
        return message_html("Nothing in the index matches this question.", "info")
    if not answer.answered:
        hint = f'<div class="hint">{_escape(answer.hint)}</div>' if answer.hint else ""
        return (f'<div class="answer-box none"{box_id}><div class="label">No direct answer</div>'
                f'<div class="sentence">Not found in these documents; closest passages:</div>{hint}</div>')
    cited = answer.answer_citation
    home = next((h for h in answer.hits if cited and h.passage.doc_id == cited.doc_id
                 and h.passage.start <= cited.start and cited.end <= h.passage.end), answer.hits[0])
    citation = _citation_line(cited) if cited else ""
    return (f'<div class="answer-box"{box_id}><div class="label">Answer · from passage {home.rank}</div>'
            f'<div class="sentence">{_with_short_in_bold(answer.answer, cited.start, answer)}</div>'
            f'<div class="context">{_highlighted(home, answer)}</div>'
            f'<div class="cite">{citation}</div></div>')


def turn_html(question: str, searched_for: str, card: str) -> str:
    """One turn of the conversation: the question, what was searched where a follow-up was
    rewritten ("Searched for: When was SenseTime founded?"), and its answer card."""
    searched = (f'<div class="searched">Searched for: {_escape(searched_for)}</div>'
                if searched_for and searched_for != question else "")
    return (f'<div class="turn"><div class="turn-question">{_escape(question)}</div>{searched}'
            f'<div class="turn-answer">{card}</div></div>')


def cards_html(answer: Answer) -> str:
    cards = []
    for hit in answer.hits:
        c = hit.citation
        cards.append(
            f'<div class="card" data-source="{_escape(c.source)}"><div class="card-head"><span class="num">{hit.rank}</span>'
            f'<span class="title">{_escape(c.title)}</span><span class="source">{_escape(c.source)}</span></div>'
            f'<div class="meta">{_citation_line(c)}</div>'
            f'<div class="text">{_highlighted(hit, answer)}</div></div>')
    return "".join(cards)


@dataclass(frozen=True)
class ShownTurn:
    """A turn of the page's conversation: the question as asked and searched (what a follow-up
    reads), and its answer card as the page shows it once a later question comes."""

    turn: Turn
    card: str

    def html(self) -> str:
        return turn_html(self.turn.question, self.turn.searched, self.card)


@dataclass(frozen=True)
class Reply:
    """What the page shows for one question: the earlier turns, this one's turn (question, searched
    line and card), its passages, and the conversation with this turn added (unchanged on an error)."""

    earlier_html: str
    latest_html: str
    passages_html: str
    conversation: tuple[ShownTurn, ...]


@dataclass(frozen=True)
class SourceRequest:
    """Which cited span the page asks to see: a document and its char span in the cleaned text.
    The browser sends it as JSON through a hidden textbox (a click inside rendered HTML reaches the
    server only through a component, and a ``gr.State`` cannot be written from JavaScript)."""

    doc_id: str
    start: int
    end: int

    @classmethod
    def from_json(cls, message: str) -> "SourceRequest | None":
        """The request ``message`` holds, or None where it is not one (a stale or hand-made value)."""
        try:
            data = json.loads(message or "")
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("doc_id"), str):
            return None
        start, end = data.get("start"), data.get("end")
        if not all(isinstance(value, int) and not isinstance(value, bool) for value in (start, end)):
            return None
        return cls(data["doc_id"], start, end)


class DocQAApp:
    """The page's handlers over one ``DocumentLibrary`` (the live index, its uploads and removals).

    Parameters:
        index_dir: the index folder, or a vector database's location (``index.stores``).
        qa: the ``QA`` open on it.
        max_upload_mb: larger uploads are refused.
    """

    def __init__(self, index_dir: str | Path, qa: QA, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB):
        self.library = DocumentLibrary(index_dir, qa, max_upload_mb)
        self.index_dir = self.library.index_dir

    @property
    def qa(self) -> QA:
        return self.library.qa

    def stats_markdown(self) -> str:
        s = self.library.stats()
        return (f"**{s.documents}** documents · **{s.passages}** passages · model `{s.model}` "
                f"({s.dimension}-d, {s.dense_index}, embedded by `{s.backend}`) · `{s.path}`")

    def ask(self, question: str, k: int, mode: str, within: str = "") -> tuple[str, str]:
        """A question on its own: the answer card and the passage cards (HTML); ``within`` is the
        "Search within" box (``--where`` clauses)."""
        reply = self.reply(question, k, mode, within=within)
        return reply.latest_html, reply.passages_html

    def reply(self, question: str, k: int, mode: str, conversation: tuple[ShownTurn, ...] = (),
              within: str = "") -> Reply:
        """``question`` as the next turn of ``conversation``: a follow-up ("When was it founded?")
        is searched with the subject of the turns before it."""
        conversation = tuple(conversation or ())
        shown = "".join(turn.html() for turn in conversation)
        try:
            answer = self.library.ask(question or "", k=int(k), mode=mode, history=[t.turn for t in conversation],
                                      where=Scope.parse_line(within or ""))
        except (QuestionError, ScopeError) as error:
            return Reply(shown, message_html(str(error)), "", conversation)
        except Exception as error:  # the page must show a message, never a traceback
            return Reply(shown, message_html(f"Something went wrong answering this question: {error}"), "", conversation)
        turn = ShownTurn(Turn(answer.question, answer.searched_for, answer.short or ""), answer_html(answer, ""))
        return Reply(shown, turn_html(answer.question, answer.searched_for, answer_html(answer)), cards_html(answer),
                     (conversation + (turn,))[-MAX_SHOWN_TURNS:])

    def add_documents(self, files, progress=gr.Progress(track_tqdm=True)) -> tuple[str, str]:
        if not files:
            return message_html("Choose one or more files to add first."), self.stats_markdown()
        paths = [Path(getattr(file, "name", file)) for file in files]
        progress(0, desc=f"Indexing {len(paths)} file(s)…")
        report = self.library.add_files(paths, progress=True)
        for source in report.refused_files:
            _remove_quietly(source)
        skipped = [f"Skipped {w.path}: {w.reason}" for w in report.refused]
        already = [f"{d.name} is already indexed as {d.indexed_as}; not added again." for d in report.duplicates]
        if report.error:
            lines = [f"Nothing was added: {report.error}"] + skipped
            return "".join(message_html(line) for line in lines), self.stats_markdown()
        if report.added or report.changed or report.embedded:
            lines = [f"Added {report.added} and updated {report.changed} document(s): "
                     f"{report.embedded} new passages embedded."]
        elif report.duplicates:
            lines = []
        else:
            lines = ["Nothing was added."]
        kind = "info" if report.added or report.changed else "error"
        return ("".join(message_html(line, kind) for line in lines)
                + "".join(message_html(line, "info") for line in already)
                + "".join(message_html(line) for line in skipped)), self.stats_markdown()

    def example_questions(self, count: int = EXAMPLE_COUNT) -> list[str]:
        """Questions about the open index, made from its documents' titles and headings: a title that
        is a question as it stands, else one of the document's headings, else the title itself."""
        questions: list[str] = []
        for summary in self.library.documents()[:count * 3]:
            title = " ".join(summary.title.split())
            document = self.library.document(summary.doc_id)
            headings = [s.label.split(" > ")[-1].strip() for s in (document.sections if document else ())]
            heading = next((h for h in headings if h and h.lower() not in _NOT_TOPICS and h.lower() != title.lower()), "")
            if not title:
                continue
            if title.endswith("?"):
                question = title
            elif heading:
                question = f"What does {_clipped(title)} say about {_clipped(heading)}?"
            else:
                question = f"What is {_clipped(title)}?"
            if question not in questions:
                questions.append(question)
            if len(questions) == count:
                break
        return questions

    def source_html(self, request: str) -> str:
        """The whole cleaned document of a citation, its span marked (``request``: a ``SourceRequest``
        as the page's JSON message)."""
        return self.show_source(SourceRequest.from_json(request))

    def show_source(self, request: "SourceRequest | None") -> str:
        document = self.library.document(request.doc_id) if request else None
        if document is None:
            return message_html("That document is no longer in the index.")
        start, end = request.start, request.end
        if not 0 <= start <= end <= len(document.text):
            return message_html("That span is not in the document.")
        page = document.page_at(start)
        head = [f"<b>{_escape(document.title)}</b>", _escape(document.source)]
        head += [f"page {page}"] if page is not None else []
        head += [_escape(document.section_at(start) or "lead section"), f"chars {start}–{end}"]
        text = document.text
        return (f'<div class="source-view"><div class="source-head">{" · ".join(head)}</div>'
                f'<div class="source-text">{_escape(text[:start])}<mark>{_escape(text[start:end])}</mark>'
                f'{_escape(text[end:])}</div></div>')

    def documents(self) -> list:
        return self.library.documents()

    def remove_document(self, doc_id: str) -> tuple[str, str]:
        try:
            removed = self.library.remove(doc_id)
        except KeyError:
            return message_html("That document is no longer in the index."), self.stats_markdown()
        except NothingToIndex:
            return message_html("It is the index's last document; an index cannot be empty."), self.stats_markdown()
        except IndexStoreError as error:
            return message_html(f"Nothing was removed: {error}"), self.stats_markdown()
        return message_html(f"Removed {removed.source}: the index no longer holds it.", "info"), self.stats_markdown()


# Headings that say nothing about a document's subject, not worth an example question.
_NOT_TOPICS = {"infobox", "references", "see also", "external links", "notes", "contents", "introduction", "abstract"}


def _clipped(text: str, words: int = 8) -> str:
    """``text`` on one line, cut to its first ``words`` words (a title can be a whole sentence)."""
    kept = text.split()
    return " ".join(kept[:words]).rstrip(" .:;,") + ("…" if len(kept) > words else "")


@dataclass(frozen=True)
class RemovalNote:
    """What the last Remove did, shown in the list where its row was (``position``)."""

    position: int
    html: str


@dataclass(frozen=True)
class ListView:
    """What the document list shows besides the documents: ``version``, bumped after every change
    so the list renders again; the doc_id whose Remove waits for its confirmation; the last
    Remove's note. One state, so that one click renders the list once: two states changed by one
    click rendered it twice, and a button clicked between the two was gone."""

    version: int = 0
    pending: str = ""
    note: RemovalNote | None = None


def _remover(app: DocQAApp, doc_id: str, source: str, position: int):
    """The confirmed Remove of one row: progress on the row's status, then the note where the row was."""
    def remove_confirmed(view: ListView, progress=gr.Progress()):
        progress(0, desc=f"Removing {source}…")
        status, stats = app.remove_document(doc_id)
        return "", stats, ListView(view.version + 1, "", RemovalNote(position, status))
    return remove_confirmed


def _asker(app: DocQAApp):
    """The next turn of the page's conversation; a new answer clears the last one's source view."""
    def ask(question: str, k: int, mode: str, conversation: tuple[ShownTurn, ...], within: str = ""):
        reply = app.reply(question, k, mode, conversation, within=within)
        answered = reply.conversation != tuple(conversation or ())
        # An answered question leaves the box for the next one; a refused one stays to be corrected.
        return (reply.earlier_html, reply.latest_html, reply.passages_html, "", reply.conversation,
                "" if answered else question)
    return ask


def _add_and_refresh(app: DocQAApp):
    def add_documents(chosen, view: ListView, progress=gr.Progress(track_tqdm=True)):
        status, stats = app.add_documents(chosen, progress)
        return status, stats, ListView(view.version + 1)
    return add_documents


def _remove_status(html_text: str) -> str:
    """A Remove's status, marked in its own HTML: Gradio puts an ``elem_classes`` class on both the
    block and its inner element, so a class given that way would name two elements."""
    return f'<div class="remove-status">{html_text}</div>' if html_text else ""


def _remove_quietly(path: Path) -> None:
    """Delete a file Gradio saved for an upload we refused, so it does not linger in its temp folder."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def build_app(app: DocQAApp) -> "gr.Blocks":
    examples = app.example_questions()
    with gr.Blocks(title="docqa", analytics_enabled=False) as demo:
        gr.Markdown("# docqa\nAsk your documents. Every answer comes with the passage and the place it came from.",
                    elem_id="title")
        with gr.Tab("Ask", elem_id="ask-tab"):
            # The conversation: earlier turns, then the latest (its card is #answer), then the box
            # for the next question; the latest answer's source view and passages below.
            conversation = gr.State(())      # the ShownTurns so far; a follow-up reads them
            earlier = gr.HTML(elem_id="conversation")
            answer = gr.HTML(elem_id="answer")
            with gr.Row(equal_height=True):
                question = gr.Textbox(label="Question", placeholder=f"e.g. {examples[0]}" if examples else "",
                                      info="A follow-up such as \"When was it founded?\" is asked about the last "
                                           "question's subject.",
                                      elem_id="question", scale=5, autofocus=True, max_lines=2)
                ask = gr.Button("Ask", variant="primary", elem_id="ask", scale=1, min_width=100)
                new_conversation = gr.Button("New conversation", elem_id="new-conversation", scale=1, min_width=100)
            with gr.Row():
                k = gr.Slider(1, 20, value=5, step=1, label="Passages (k)", elem_id="k")
                mode = gr.Radio(list(MODES), value=DEFAULT_MODE, label="Retrieval", elem_id="mode")
                within = gr.Textbox(label="Search within", placeholder="e.g. path=notes/ format=pdf date>=2020 tag=python",
                                    elem_id="within", max_lines=1)
            if examples:
                gr.Examples(examples, inputs=question, elem_id="examples")
            source_view = gr.HTML(elem_id="source-view")
            passages = gr.HTML(elem_id="passages")
            source_request = gr.Textbox(elem_id="source-request", elem_classes="hidden-control", show_label=False)
            source_open = gr.Button("Show source", elem_id="source-open", elem_classes="hidden-control")
        with gr.Tab("Documents", elem_id="documents-tab"):
            # A callable value is read on every page load, so a reload shows the index as it is now,
            # as the list below (rendered on load) does.
            stats = gr.Markdown(app.stats_markdown, elem_id="stats")
            files = gr.File(label="Add documents (PDF, web pages, Word, Markdown, wikitext, plain text)",
                            file_count="multiple", elem_id="upload")
            add = gr.Button("Add to index", elem_id="add")
            status = gr.HTML(elem_id="upload-status")
            listed = gr.State(ListView())

            @gr.render(inputs=listed)
            def document_rows(view: ListView):
                pending_id, last_note = view.pending, view.note
                documents = app.documents()
                gr.Markdown(f"{len(documents)} documents: title · source · format · passages · date", elem_id="doc-count")
                for position, document in enumerate(documents):
                    if last_note is not None and last_note.position == position:
                        gr.HTML(_remove_status(last_note.html))
                    with gr.Row(elem_classes="doc-row"):
                        gr.Markdown(f"**{_markdown_text(document.title)}** · {_markdown_text(document.source)} · "
                                    f"{document.format} · {document.passages} passages · {document.published[:10] or '—'}",
                                    elem_classes="doc-line")
                        if document.doc_id != pending_id:
                            remove = gr.Button("Remove", size="sm", scale=0, min_width=90, elem_classes="remove-doc")
                            remove.click(lambda view, doc_id=document.doc_id: replace(view, pending=doc_id, note=None),
                                         inputs=listed, outputs=listed)
                            continue
                        row_status = gr.HTML(_remove_status(f"Remove {_escape(document.source)} from the index?"))
                        confirm = gr.Button("Yes, remove", variant="stop", size="sm", scale=0, min_width=110,
                                            elem_classes="confirm-remove")
                        cancel = gr.Button("Cancel", size="sm", scale=0, min_width=80, elem_classes="cancel-remove")
                        confirm.click(_remover(app, document.doc_id, document.source, position), inputs=listed,
                                      outputs=[row_status, stats, listed])
                        cancel.click(lambda view: replace(view, pending=""), inputs=listed, outputs=listed)
                if last_note is not None and last_note.position >= len(documents):
                    gr.HTML(_remove_status(last_note.html))

        for trigger in (ask.click, question.submit):
            trigger(_asker(app), inputs=[question, k, mode, conversation, within],
                    outputs=[earlier, answer, passages, source_view, conversation, question],
                    concurrency_limit=CONCURRENT_QUESTIONS, concurrency_id="ask")
        new_conversation.click(lambda: ("", "", "", "", ()), outputs=[earlier, answer, passages, source_view, conversation])
        source_open.click(app.source_html, inputs=source_request, outputs=source_view).then(None, js=SCROLL_TO_SPAN_JS)
        add.click(_add_and_refresh(app), inputs=[files, listed], outputs=[status, stats, listed])
    return demo


def _markdown_text(text: str) -> str:
    """Text shown in Markdown as itself: no markup, links or HTML from a document's title."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~])", r"\\\1", " ".join(text.split()))


def serve(index_dir: str | Path | None = None, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
          max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, settings: Settings | None = None,
          api_key: str | None = None) -> int:
    """Open the UI on ``index_dir`` (default: the bundled corpus). ``share`` is the only way to a
    public link: ``GRADIO_SHARE`` in the environment is ignored. The settings' backend embeds
    questions and uploads (``auto``: the index's own where it runs well here, else chosen by the CPU).

    As ``qa serve`` does, binding another address than loopback (or sharing) needs a key
    (``api_key`` or ``$DOCQA_API_KEY``), refused before anything loads; the page then asks for it
    at a login (any user name, the key as the password)."""
    from qa.server import checked_key

    try:
        api_key = checked_key("0.0.0.0" if share else host, api_key)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        qa = QA.open(index_dir, settings=settings) if index_dir else QA.default(settings=settings)
    except (IndexStoreError, ModelUnavailable, BackendUnavailable, ImportError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    app = DocQAApp(index_dir or default_index_dir(), qa, max_upload_mb)
    if app.library.recovery:
        print(f"note: {app.library.recovery.message()}", file=sys.stderr)
    build_app(app).launch(server_name=host, server_port=port, share=bool(share), css=CSS, theme=gr.themes.Soft(),
                          head=SOURCE_VIEW_JS,
                          footer_links=[], show_error=False, max_file_size=app.library.max_upload_bytes,
                          auth=(lambda _user, password: hmac.compare_digest(password.encode(), api_key.encode()))
                          if api_key else None)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ui.py", description="docqa web UI")
    parser.add_argument("--index", default=None, help="index folder, or qdrant://HOST:6333/COLLECTION or "
                                                      "qdrant+local:PATH (default: the bundled corpus index)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s, this machine only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link (off unless given)")
    parser.add_argument("--max-upload-mb", type=float, default=DEFAULT_MAX_UPLOAD_MB,
                        help="largest file accepted for upload (default: %(default)s)")
    parser.add_argument("--allow-download", action="store_true", help="let the index's model come from the hub")
    parser.add_argument("--backend", choices=CHOICES, default=AUTO, help="embedding backend (default: %(default)s)")
    parser.add_argument("--api-key", default=None, help="the password the page asks for; needed to bind another "
                                                        "address than loopback or to share (also: $DOCQA_API_KEY)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_args(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return serve(args.index, args.host, args.port, args.share, args.max_upload_mb, settings, args.api_key)


if __name__ == "__main__":
    sys.exit(main())
