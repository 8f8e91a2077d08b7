"""The Gradio app: handlers in-process, and the real page driven in headless Chromium."""
import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from dataclasses import replace

import ui
from index import IndexBuilder, IndexStore
from ingest.reader import file_digest
from qa import QA
from support import REPO, WIKI_SEED, free_port, make_pdf

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS_ENV = "DOCQA_SCREENSHOTS"    # where the browser tests keep their screenshots; else their tmp_path


def _screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def app(seed_index_copy, embedder):
    return ui.DocQAApp(seed_index_copy, QA(IndexStore.open(seed_index_copy), embedder))


def test_answer_is_highlighted_in_its_passage_and_cards_cite_sources(app):
    answer_html, cards_html = app.ask("Who founded SenseTime?", 5, "hybrid")
    assert "<mark>" in answer_html and '<b class="short">Tang Xiao&#x27;ou</b>' in answer_html
    assert cards_html.count('class="card"') == 5 and f'data-source="{WIKI_SEED}"' in cards_html
    assert "score" not in cards_html, "cards show rank and source, not raw fusion scores"
    assert re.search(rf'<code class="where">/[^<]*/{WIKI_SEED}:\d+</code>', answer_html), "path:line to check it in the file"


def test_a_citation_opens_its_whole_document_with_the_span_marked(app):
    answer_html, _ = app.ask("When was SenseTime founded?", 5, "hybrid")
    assert 'class="open-source"' in answer_html
    cited = app.qa.ask("When was SenseTime founded?").answer_citation
    view = app.source_html(json.dumps({"doc_id": cited.doc_id, "start": cited.start, "end": cited.end}))
    assert "<mark>Founded: October 2014.</mark>" in view and "page " not in view and "Infobox" in view
    assert "no longer in the index" in app.source_html(json.dumps({"doc_id": "nope", "start": 1, "end": 2}))
    assert "not in the document" in app.source_html(json.dumps({"doc_id": cited.doc_id, "start": 5, "end": 999999999}))
    for stale in ("", "doc:1:2", "[]", json.dumps({"doc_id": cited.doc_id, "start": "5", "end": 9})):
        assert "no longer in the index" in app.source_html(stale), stale


def test_documents_are_listed_and_removed(app, tmp_path):
    app.add_documents([str(_upload(tmp_path, "g1", "kyoto.txt", "Kyoto office\n\nSenseTime opened a Kyoto office."))])
    listed = {d.source: d for d in app.documents()}
    assert len(listed) == 6 and listed["kyoto.txt"].format == "text" and listed["kyoto.txt"].passages == 1
    status, stats = app.remove_document(listed["kyoto.txt"].doc_id)
    assert "Removed kyoto.txt" in status and "**5** documents" in stats
    assert "kyoto.txt" not in {d.source for d in app.documents()}
    assert "no longer in the index" in app.remove_document(listed["kyoto.txt"].doc_id)[0]


def test_a_follow_up_is_searched_with_the_last_subject_and_each_card_stays_with_its_question(app):
    first = app.reply("What is SenseTime?", 5, "hybrid")
    assert first.earlier_html == "" and "Searched for" not in first.latest_html
    assert [t.turn.question for t in first.conversation] == ["What is SenseTime?"]
    second = app.reply("When was it founded?", 5, "hybrid", first.conversation)
    assert '<div class="searched">Searched for: When was SenseTime founded?</div>' in second.latest_html
    assert '<b class="short">October 2014</b>' in second.latest_html and 'id="answer-box"' in second.latest_html
    assert second.earlier_html.count('class="turn"') == 1 and "What is SenseTime?" in second.earlier_html
    assert 'id="answer-box"' not in second.earlier_html, "one element is the latest answer"
    assert second.conversation[-1].turn == ui.Turn("When was it founded?", "When was SenseTime founded?", "October 2014")
    third = app.reply("Who leads it?", 5, "hybrid", second.conversation)
    assert "Searched for: Who leads SenseTime?" in third.latest_html and third.earlier_html.count('class="turn"') == 2
    refused = app.reply("   ", 5, "hybrid", third.conversation)
    assert refused.conversation == third.conversation and "question is empty" in refused.latest_html
    assert refused.earlier_html.count('class="turn"') == 3, "an error shows the whole conversation above it"


def test_a_question_nothing_answers_says_so_above_the_closest_passages(app):
    answer_html, cards_html = app.ask("How do I bake sourdough bread?", 5, "hybrid")
    assert "Not found in these documents; closest passages:" in answer_html and "<mark>" not in answer_html
    assert cards_html.count('class="card"') == 5 and "<mark>" not in cards_html


def test_a_question_in_another_language_is_declined_with_a_hint_above_the_passages(app):
    answer_html, cards_html = app.ask("Wo hat die Firma ihren Hauptsitz?", 5, "hybrid")
    assert "Not found in these documents" in answer_html and 'class="hint">The question looks like German' in answer_html
    assert cards_html.count('class="card"') == 5


def test_empty_question_gives_a_message_not_a_traceback(app):
    answer_html, cards_html = app.ask("   ", 5, "hybrid")
    assert 'class="message error"' in answer_html and "question is empty" in answer_html and cards_html == ""


def test_upload_adds_documents_and_broken_uploads_get_a_message(app, tmp_path):
    note = tmp_path / "kyoto.txt"
    note.write_text("Kyoto office\n\nSenseTime opened a research office in Kyoto in 2019 led by Dr. Aiko Tanaka.")
    status, stats = app.add_documents([str(note)])
    assert "Added 1" in status and "**6** documents" in stats
    _, cards = app.ask("Who leads SenseTime's Kyoto office?", 3, "bm25")
    assert 'data-source="kyoto.txt"' in cards

    binary = tmp_path / "photo.txt"
    binary.write_bytes(bytes(range(256)) * 10)
    status, stats = app.add_documents([str(binary)])
    assert 'class="message error"' in status and "binary file" in status and "**6** documents" in stats
    assert app.add_documents([])[0].startswith('<div class="message error">Choose')


def test_example_questions_come_from_the_open_index(app, embedder, tmp_path):
    titles = {d.title for d in app.documents()}
    examples = app.example_questions()
    assert len(examples) == 4 and all(any(" ".join(t.split()[:3]) in q for t in titles) for q in examples), examples
    assert "Can SenseTime become a Chinese AI champion?" in examples and "Infobox" not in "".join(examples)
    notes = tmp_path / "notes" / "kestrel.md"
    notes.parent.mkdir()
    notes.write_text("# Kestrel survey\n\n## Nesting pairs\n\nThe survey counted 412 nesting pairs in 2021.\n")
    own = tmp_path / "own-index"
    IndexBuilder(own, progress=False, embedder=embedder)([notes])
    examples = ui.DocQAApp(own, QA(IndexStore.open(own), embedder)).example_questions()
    assert examples == ["What does Kestrel survey say about Nesting pairs?"]
    assert "SenseTime" not in "".join(examples) and "SenseTime" not in ui.CSS


def test_a_duplicate_upload_is_reported_as_already_indexed_under_its_first_name(app, tmp_path):
    text = "Kyoto office\n\nSenseTime opened a Kyoto office."
    assert "Added 1" in app.add_documents([str(_upload(tmp_path, "g1", "kyoto.txt", text))])[0]
    again = _upload(tmp_path, "g2", "kyoto-copy.txt", text)
    status, stats = app.add_documents([str(again)])
    assert "kyoto-copy.txt is already indexed as kyoto.txt; not added again." in status
    assert 'class="message info"' in status and "Added" not in status and "**6** documents" in stats
    assert not again.exists(), "the duplicate's temporary copy is deleted"


def _upload(tmp_path, folder, name, text):
    """A file where Gradio would have saved an upload: its own temp folder, the user's file name."""
    path = tmp_path / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_two_uploads_with_the_same_name_are_both_kept(app, tmp_path):
    first = _upload(tmp_path, "g1", "notes.txt", "Lab notes\n\nThe first centrifuge was serviced by Dana in May.")
    second = _upload(tmp_path, "g2", "notes.txt", "Lab notes\n\nThe second freezer was repaired by Omar in June.")
    assert "Added 1" in app.add_documents([str(first)])[0]
    status, stats = app.add_documents([str(second)])
    assert "Added 1" in status and "**7** documents" in stats
    _, cards = app.ask("Who serviced the first centrifuge?", 3, "bm25")
    assert "Dana" in cards and 'data-source="notes.txt"' in cards
    _, cards = app.ask("Who repaired the second freezer?", 3, "bm25")
    assert "Omar" in cards


def test_an_upload_refused_by_a_running_build_deletes_only_its_own_copy(app, tmp_path):
    import fcntl

    first = _upload(tmp_path, "g1", "notes.txt", "Lab notes\n\nThe first centrifuge was serviced by Dana in May.")
    app.add_documents([str(first)])
    stored = list((app.index_dir / "uploads").rglob("notes.txt"))
    second = _upload(tmp_path, "g2", "notes.txt", "Lab notes\n\nThe second freezer was repaired by Omar in June.")
    with open(app.index_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        status, stats = app.add_documents([str(second)])
    assert "another build is writing" in status and "**6** documents" in stats
    assert list((app.index_dir / "uploads").rglob("notes.txt")) == stored and stored[0].exists()
    assert "Dana" in app.ask("Who serviced the first centrifuge?", 3, "bm25")[1]


def test_oversized_and_skipped_uploads_are_deleted_everywhere(seed_index_copy, embedder, tmp_path):
    small_cap = ui.DocQAApp(seed_index_copy, QA(IndexStore.open(seed_index_copy), embedder), max_upload_mb=0.01)
    big = _upload(tmp_path, "g1", "big.txt", "Big file\n\n" + "Many words here. " * 2000)
    binary = tmp_path / "g2" / "photo.txt"
    binary.parent.mkdir()
    binary.write_bytes(bytes(range(256)) * 10)
    status, stats = small_cap.add_documents([str(big), str(binary)])
    assert "big.txt" in status and "over the 0.01 MB upload limit" in status
    assert "binary file" in status and "**5** documents" in stats
    assert not big.exists() and not binary.exists(), "refused uploads leave Gradio's temp folder"
    assert not list((seed_index_copy / "uploads").rglob("*.txt"))


def test_the_replaced_index_version_is_closed_after_an_upload(app, tmp_path):
    old = app.qa
    app.add_documents([str(_upload(tmp_path, "g1", "kyoto.txt", "Kyoto\n\nSenseTime opened a Kyoto office."))])
    assert app.qa is not old and old.store.dense is None and app.qa.store.dense is not None


def test_gradio_share_in_the_environment_is_ignored_unless_asked(seed_index, monkeypatch):
    launched = []
    monkeypatch.setattr(ui.gr.Blocks, "launch", lambda self, **options: launched.append(options))
    monkeypatch.setenv("GRADIO_SHARE", "True")
    assert ui.main(["--index", str(seed_index)]) == 0
    assert ui.main(["--index", str(seed_index), "--share", "--api-key", "s3cret"]) == 0
    assert [options["share"] for options in launched] == [False, True]
    assert launched[0]["server_name"] == "127.0.0.1" and launched[0]["max_file_size"] == 100 * 1024 * 1024


def test_binding_another_address_or_sharing_needs_a_key_as_qa_serve_does(seed_index, monkeypatch, capsys):
    launched = []
    monkeypatch.setattr(ui.gr.Blocks, "launch", lambda self, **options: launched.append(options))
    monkeypatch.delenv("DOCQA_API_KEY", raising=False)
    for refused in (["--host", "0.0.0.0"], ["--share"]):
        started = time.perf_counter()
        assert ui.main(["--index", str(seed_index), *refused]) == 2
        err = capsys.readouterr().err
        assert "--api-key" in err and "Traceback" not in err and err.count("\n") == 1
        assert time.perf_counter() - started < 5, "refused before the model loads"
    assert launched == []
    assert ui.main(["--index", str(seed_index), "--host", "0.0.0.0", "--api-key", "s3cret"]) == 0
    (login,) = [options["auth"] for options in launched]
    assert login("anyone", "s3cret") and not login("anyone", "wrong")


def test_dangerous_link_schemes_are_never_rendered_as_links(app):
    answer = app.qa.ask("Who founded SenseTime?", k=2)
    hit = answer.hits[0]
    for url in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>x</script>"):
        hostile = replace(hit, citation=replace(hit.citation, url=url))
        page = ui.cards_html(replace(answer, hits=(hostile,)))
        assert "href" not in page and "script:" not in page.replace("&lt;script&gt;", "")
    assert 'href="https://' in ui.cards_html(answer) or 'href="http://' in ui.cards_html(answer)


HOSTILE_WIKITEXT = (
    "'''Zorblatt Institute''' is a research lab in [[Oslo]] founded in 1987 by Ingrid Vale."
    "<ref>{{cite web |url=javascript:alert('ref') |title=x}}</ref>\n"
    "Its annual budget is 40 million kroner.<ref>[https://example.org/zorblatt budget report]</ref>\n"
    "<script>alert('inline')</script> The institute studies [[glacier]] dynamics.\n")


def _hostile_index(index_dir, embedder):
    """The seed index plus a page with a javascript: reference; its stored document URL is then
    set to javascript: too, as a crafted or older index could hold, so the renderer is tested."""
    hostile = index_dir.parent / "hostile" / "zorblatt.wiki"
    hostile.parent.mkdir()
    hostile.write_text(HOSTILE_WIKITEXT)
    IndexBuilder(index_dir, progress=False, embedder=embedder)([hostile])
    store = IndexStore.open(index_dir)
    doc = next(d for d in store.documents() if d.source == "zorblatt.wiki")
    assert all("javascript" not in url for p, _ in store.passages_of(doc.doc_id) for url in p.urls)
    passages_file = store.version / "passages.sqlite"
    with sqlite3.connect(passages_file) as db:
        db.execute("UPDATE documents SET url = 'javascript:alert(document.domain)' WHERE doc_id = ?", (doc.doc_id,))
    # A crafted index comes with checksums that match its files: reseal the manifest as its maker would.
    manifest_file = store.version / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["checksums"]["passages.sqlite"] = file_digest(passages_file)
    manifest["sizes"]["passages.sqlite"] = passages_file.stat().st_size
    manifest_file.write_text(json.dumps(manifest))
    return index_dir


@pytest.mark.slow   # drives Chromium: about 35 s
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_page_answers_who_founded_sensetime_in_a_real_browser(seed_index_copy, embedder, tmp_path):
    index_dir = _hostile_index(seed_index_copy, embedder)
    with _served(index_dir) as (browser, url):
        page = browser.new_page(viewport={"width": 1200, "height": 1400})
        page.goto(url)
        page.locator("#question textarea").fill("Who founded SenseTime?")
        page.locator("#ask").click()
        page.locator("#answer-box").wait_for(timeout=60_000)
        cards = page.locator("#passages .card")
        assert page.locator("#answer .sentence b.short").inner_text() == "Tang Xiao'ou"
        assert page.locator("#answer .context mark b.short").inner_text() == "Tang Xiao'ou"
        assert page.locator("#answer b.short").first.evaluate("b => getComputedStyle(b).fontWeight") == "700"
        assert WIKI_SEED in page.locator("#answer .cite").inner_text()
        assert cards.count() == 5 and cards.first.get_attribute("data-source") == WIKI_SEED
        assert "score" not in page.locator("#passages").inner_text()
        shots = _screenshots(tmp_path)
        page.screenshot(path=str(shots / "ui.png"), full_page=True)

        page.locator("#question textarea").fill("How do I bake sourdough bread?")
        page.locator("#ask").click()
        page.get_by_text("Not found in these documents; closest passages:").wait_for(timeout=60_000)
        assert page.locator("#answer mark").count() == 0 and cards.count() == 5
        page.screenshot(path=str(shots / "ui-nothing-found.png"), full_page=True)

        page.locator("#question textarea").fill("")
        page.locator("#ask").click()
        page.get_by_text("the question is empty").wait_for(timeout=30_000)

        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.locator("#question textarea").fill("Who founded the Zorblatt Institute in Oslo?")
        page.locator("#ask").click()
        page.get_by_text("Ingrid Vale").first.wait_for(timeout=60_000)
        hrefs = page.eval_on_selector_all("#answer a, #passages a", "links => links.map(a => a.getAttribute('href'))")
        assert "https://example.org/zorblatt" in hrefs
        assert all(h.startswith(("http://", "https://", "mailto:")) for h in hrefs), hrefs
        page.wait_for_timeout(500)
        assert dialogs == [] and page.locator("#passages script").count() == 0
        page.screenshot(path=str(shots / "ui-hostile.png"), full_page=True)

        # A PDF uploaded in the documents tab, asked about, shown in its document, then removed.
        page.get_by_role("tab", name="Documents").click()
        page.locator("#upload input[type=file]").set_input_files(str(make_pdf(tmp_path / "kestrel-survey.pdf")))
        page.locator("#add").click()
        page.get_by_text("Added 1").wait_for(timeout=120_000)
        row = page.locator(".doc-row", has_text="kestrel-survey.pdf")
        row.wait_for(timeout=30_000)
        assert "pdf" in row.inner_text() and "passages" in row.inner_text()
        page.get_by_role("tab", name="Ask").click()
        page.locator("#question textarea").fill("How many nesting pairs did the Kestrel survey count?")
        page.locator("#ask").click()
        page.locator("#answer .cite", has_text="page 3").wait_for(timeout=60_000)
        assert page.locator("#answer .sentence b.short").inner_text() == "412"
        page.locator("#answer .open-source").click()
        page.locator("#source-view mark").wait_for(timeout=30_000)
        assert "412 nesting pairs" in page.locator("#source-view mark").inner_text()
        head = page.locator("#source-view .source-head").inner_text()
        assert "kestrel-survey.pdf" in head and "page 3" in head and "Results" in head
        assert "Introduction" in page.locator("#source-view .source-text").inner_text(), "the whole document"
        page.screenshot(path=str(shots / "ui-source-view.png"), full_page=True)
        page.get_by_role("tab", name="Documents").click()
        row.get_by_role("button", name="Remove").click()
        row.get_by_role("button", name="Yes, remove").click()   # Remove asks first
        page.get_by_text("Removed kestrel-survey.pdf").wait_for(timeout=120_000)
        page.locator(".doc-row", has_text="kestrel-survey.pdf").wait_for(state="detached", timeout=30_000)
        page.screenshot(path=str(shots / "ui-documents.png"), full_page=True)


# The contrast of an element's text on what is behind it (its own and its ancestors' backgrounds,
# composited over the page), by the WCAG 2 formula.
CONTRAST_JS = """element => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) throw new Error('colour ' + c);
                       const v = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
  const layers = [];
  for (let node = element; node; node = node.parentElement) layers.push(parse(getComputedStyle(node).backgroundColor));
  let back = document.body.classList.contains('dark') ? [0, 0, 0] : [255, 255, 255];
  for (const [r, g, b, a] of layers.reverse()) back = [r * a + back[0] * (1 - a), g * a + back[1] * (1 - a), b * a + back[2] * (1 - a)];
  const [r, g, b, a] = parse(getComputedStyle(element).color);
  const fore = [r * a + back[0] * (1 - a), g * a + back[1] * (1 - a), b * a + back[2] * (1 - a)];
  const lum = ([r, g, b]) => { const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
                               return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const [hi, lo] = [lum(fore), lum(back)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}"""


# The box of an element's first own run of text ("Founded: " of a mark whose short answer is in
# bold on another background), in page coordinates, for a screenshot of just that text.
TEXT_BOX_JS = """element => {
  const text = [...element.childNodes].find(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  const range = document.createRange();
  range.selectNodeContents(text || element);
  const box = range.getClientRects()[0];
  return {x: box.x + window.scrollX, y: box.y + window.scrollY, width: box.width, height: box.height};
}"""


def _luminance(rgb) -> float:
    def linear(channel):
        channel /= 255
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(float(c)) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _pixel_contrast(page, selector: str) -> float:
    """The WCAG contrast of an element's text as Chromium painted it: in a screenshot of its first
    run of text, the commonest colour is the background and the one farthest from it the text."""
    from io import BytesIO

    from PIL import Image

    element = page.locator(selector).first
    element.scroll_into_view_if_needed()
    box = element.evaluate(TEXT_BOX_JS)
    shot = Image.open(BytesIO(page.screenshot(clip=box, full_page=True))).convert("RGB")
    colours = shot.getcolors(maxcolors=shot.width * shot.height)
    background = _luminance(max(colours)[1])
    ratios = [(max(_luminance(c), background) + 0.05) / (min(_luminance(c), background) + 0.05) for _, c in colours]
    return max(ratios)


@contextlib.contextmanager
def _served(index_dir):
    """ui.py serving ``index_dir`` on a free port, and headless Chromium; yields (browser, url)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    port = free_port()
    server = subprocess.Popen([sys.executable, "ui.py", "--index", str(index_dir), "--port", str(port)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.time() < deadline, "the UI did not start"
                time.sleep(0.5)
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            yield browser, url
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow   # drives a browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_highlight_and_links_are_readable_in_light_and_dark_and_the_page_stays_in_step(seed_index_copy, tmp_path):
    with _served(seed_index_copy) as (browser, url):
        for scheme in ("light", "dark"):
            page = browser.new_page(viewport={"width": 1200, "height": 1400}, color_scheme=scheme)
            page.goto(url)
            # A real conversation: a question, then a follow-up answered from the founding passage.
            page.locator("#question textarea").fill("Who founded SenseTime?")
            assert page.evaluate("document.body.classList.contains('dark')") == (scheme == "dark")
            page.locator("#ask").click()
            page.locator("#answer-box").wait_for(timeout=60_000)
            page.locator("#question textarea").fill("When was it founded?")
            page.locator("#ask").click()
            page.locator("#answer .searched", has_text="When was SenseTime founded?").wait_for(timeout=60_000)
            page.locator("#answer .open-source").click()
            page.locator("#source-view mark").wait_for(timeout=30_000)
            checked = {"highlight": "#answer .context mark", "short answer": "#answer b.short",
                       "source link": "#answer .open-source", "card link": "#passages .card .meta a",
                       "source view highlight": "#source-view mark", "answer": "#answer .sentence",
                       "question": "#answer .turn-question", "searched for": "#answer .searched",
                       "earlier answer": "#conversation .answer-box .sentence"}
            ratios = {name: page.locator(selector).first.evaluate(CONTRAST_JS) for name, selector in checked.items()}
            assert all(ratio >= 4.5 for ratio in ratios.values()), (scheme, ratios)
            # And as painted: the screenshot's pixels of the highlight and of the links.
            painted = {name: _pixel_contrast(page, checked[name])
                       for name in ("highlight", "source link", "card link", "source view highlight")}
            assert all(ratio >= 4.5 for ratio in painted.values()), (scheme, painted)
            page.screenshot(path=str(_screenshots(tmp_path) / f"ui-{scheme}.png"), full_page=True)

            # A new answer clears the source view of the last one.
            page.locator("#question textarea").fill("Who founded SenseTime?")
            page.locator("#ask").click()
            page.locator("#answer .sentence b.short", has_text="Tang").wait_for(timeout=60_000)
            assert page.locator("#source-view mark").count() == 0
            page.close()

        page = browser.new_page(viewport={"width": 1200, "height": 1400})
        page.goto(url)
        page.get_by_role("tab", name="Documents").click()
        note = _upload(tmp_path, "g1", "kyoto.txt", "Kyoto office\n\nSenseTime opened a Kyoto office in 2019.")
        page.locator("#upload input[type=file]").set_input_files(str(note))
        page.locator("#add").click()
        page.locator("#upload-status .progress-text, #upload-status .progress-level, #upload-status .eta-bar").first.wait_for(timeout=60_000)
        page.get_by_text("Added 1").wait_for(timeout=120_000)
        page.locator("#doc-count", has_text="6 documents").wait_for(timeout=30_000)
        assert "**6**" not in page.locator("#stats").inner_text() and "6 documents" in page.locator("#stats").inner_text()
        page.reload()
        page.get_by_role("tab", name="Documents").click()
        page.locator("#doc-count", has_text="6 documents").wait_for(timeout=30_000)
        assert "6 documents" in page.locator("#stats").inner_text(), "a reload shows the index as it is now"

        row = page.locator(".doc-row", has_text="kyoto.txt")
        row.get_by_role("button", name="Remove").click()
        row.get_by_role("button", name="Cancel").click()
        row.get_by_role("button", name="Remove").wait_for(timeout=30_000)
        assert page.locator(".doc-row", has_text="kyoto.txt").count() == 1, "cancelled: nothing removed"
        row.get_by_role("button", name="Remove").click()
        row.get_by_role("button", name="Yes, remove").wait_for(timeout=30_000)
        assert "Remove kyoto.txt from the index?" in row.inner_text()
        row.get_by_role("button", name="Yes, remove").click()
        removed = page.locator(".remove-status", has_text="Removed kyoto.txt")
        removed.wait_for(timeout=120_000)
        page.locator("#doc-count", has_text="5 documents").wait_for(timeout=30_000)
        assert "5 documents" in page.locator("#stats").inner_text()
        assert removed.evaluate("e => e.getBoundingClientRect().top < window.innerHeight"), "the status is in view"
        page.close()


@pytest.mark.slow   # drives a browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_page_is_a_conversation_whose_follow_ups_say_what_they_searched_for(seed_index_copy, tmp_path):
    with _served(seed_index_copy) as (browser, url):
        page = browser.new_page(viewport={"width": 1200, "height": 1400}, color_scheme="dark")
        page.goto(url)
        page.locator("#question textarea").fill("What is SenseTime?")
        page.locator("#ask").click()
        page.locator("#answer .turn-question", has_text="What is SenseTime?").wait_for(timeout=60_000)
        assert page.locator("#question textarea").input_value() == "", "the box is left for the next question"
        page.locator("#question textarea").fill("When was it founded?")
        page.locator("#question textarea").press("Enter")
        searched = page.locator("#answer .searched")
        searched.wait_for(timeout=60_000)
        assert searched.inner_text() == "Searched for: When was SenseTime founded?"
        assert page.locator("#answer .turn-question").inner_text() == "When was it founded?"
        assert page.locator("#answer .sentence b.short").inner_text() == "October 2014"
        earlier = page.locator("#conversation .turn")
        assert earlier.count() == 1 and earlier.first.locator(".turn-question").inner_text() == "What is SenseTime?"
        assert earlier.first.locator(".answer-box .sentence").count() == 1, "the first card stays with its question"
        assert page.locator("#passages .card").count() == 5
        ratios = {name: page.locator(selector).first.evaluate(CONTRAST_JS) for name, selector in {
            "question": "#answer .turn-question", "searched for": "#answer .searched",
            "earlier answer": "#conversation .answer-box .sentence", "earlier link": "#conversation .open-source"}.items()}
        assert all(ratio >= 4.5 for ratio in ratios.values()), ratios
        page.screenshot(path=str(_screenshots(tmp_path) / "ui-chat-dark.png"), full_page=True)

        page.locator("#question textarea").fill("Who leads it?")
        page.locator("#ask").click()
        page.locator("#answer .searched", has_text="Searched for: Who leads SenseTime?").wait_for(timeout=60_000)
        assert earlier.count() == 2 and "When was it founded?" in earlier.nth(1).inner_text()
        page.locator("#new-conversation").click()
        earlier.first.wait_for(state="detached", timeout=30_000)
        assert page.locator("#answer .turn").count() == 0 and page.locator("#passages .card").count() == 0
        page.locator("#question textarea").fill("When was it founded?")
        page.locator("#ask").click()
        page.locator("#answer .turn-question", has_text="When was it founded?").wait_for(timeout=60_000)
        assert page.locator("#answer .searched").count() == 0, "a new conversation has no subject to carry"
        page.close()
def test_search_within_restricts_the_answer_and_a_bad_scope_is_a_message(scoped_index, embedder):
    app = ui.DocQAApp(scoped_index, QA(IndexStore.open(scoped_index), embedder))
    question = "How many nesting pairs did the survey count?"
    answer_html, cards_html = app.ask(question, 3, "hybrid", "path=notes/ tag=python")
    assert "42" in answer_html and "kestrel.md" in cards_html and "survey.pdf" not in cards_html
    answer_html, cards_html = app.ask(question, 3, "hybrid", "format=pdf")
    assert "412" in answer_html and "kestrel.md" not in cards_html
    answer_html, cards_html = app.ask(question, 3, "hybrid", "date>=soon")
    assert 'class="message error"' in answer_html and "not a date" in answer_html and cards_html == ""
