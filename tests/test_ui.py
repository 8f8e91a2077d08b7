"""The Gradio app: handlers in-process, and the real page driven in headless Chromium."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import ui
from index import IndexStore
from qa import QA
from support import REPO, WIKI_SEED

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture
def app(seed_index_copy, embedder):
    return ui.DocQAApp(seed_index_copy, QA(IndexStore.open(seed_index_copy), embedder))


def test_answer_is_highlighted_in_its_passage_and_cards_cite_sources(app):
    answer_html, cards_html = app.ask("Who founded SenseTime?", 5, "hybrid")
    assert "<mark>" in answer_html and "Tang Xiao&#x27;ou" in answer_html + cards_html
    assert cards_html.count('class="card"') == 5 and f'data-source="{WIKI_SEED}"' in cards_html


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_page_answers_who_founded_sensetime_in_a_real_browser(seed_index):
    sync_api = pytest.importorskip("playwright.sync_api")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "ui.py", "--index", str(seed_index), "--port", str(port)], cwd=REPO,
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
            page = browser.new_page(viewport={"width": 1200, "height": 1400})
            page.goto(url)
            page.locator("#question textarea").fill("Who founded SenseTime?")
            page.locator("#ask").click()
            page.locator("#answer-box").wait_for(timeout=60_000)
            answer_text = page.locator("#answer").inner_text()
            cards = page.locator("#passages .card")
            assert "Tang Xiao'ou" in answer_text + page.locator("#passages").inner_text()
            assert WIKI_SEED in page.locator("#answer .cite").inner_text()
            assert cards.count() == 5 and cards.first.get_attribute("data-source") == WIKI_SEED
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "ui.png"), full_page=True)

            page.locator("#question textarea").fill("")
            page.locator("#ask").click()
            page.get_by_text("the question is empty").wait_for(timeout=30_000)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
