"""The REST API: in-process with FastAPI's TestClient, and once as a real uvicorn process."""
import json
import os
import subprocess
import sys
import time
import urllib.request

import httpx
import pytest
from fastapi.testclient import TestClient

from index import IndexStore
from qa import QA
from qa.cli import main as cli
from qa.library import DocumentLibrary
from qa.server import create_app
from support import REPO, free_port, make_pdf, restore_sigint


def local_client(app) -> TestClient:
    """A client that sends what a browser on this machine sends (``Host: 127.0.0.1``)."""
    return TestClient(app, base_url="http://127.0.0.1")


@pytest.fixture
def library(seed_index_copy, embedder):
    return DocumentLibrary(seed_index_copy, QA(IndexStore.open(seed_index_copy), embedder), max_upload_mb=1)


def test_ask_returns_the_same_json_as_the_cli(library, seed_index_copy, capsys):
    client = local_client(create_app(library))
    response = client.post("/ask", json={"question": "When was SenseTime founded?", "k": 3, "mode": "hybrid"})
    assert response.status_code == 200
    assert cli(["ask", "When was SenseTime founded?", "-k", "3", "--index", str(seed_index_copy), "--json"]) == 0
    assert response.json() == json.loads(capsys.readouterr().out)
    assert response.json()["short"] == "October 2014"
    bad = client.post("/ask", json={"question": "   "})
    assert bad.status_code == 422 and "empty" in bad.json()["error"]["message"]
    assert client.post("/ask", json={"question": "Who?", "mode": "fuzzy"}).status_code == 422


def test_documents_are_listed_uploaded_asked_about_and_deleted(library, tmp_path):
    client = local_client(create_app(library))
    listed = client.get("/documents").json()
    assert len(listed) == 5 and set(listed[0]) == {"doc_id", "title", "source", "format", "published", "passages"}
    pdf = make_pdf(tmp_path / "kestrel-survey.pdf")
    with open(pdf, "rb") as handle:
        response = client.post("/documents", files=[("files", ("kestrel-survey.pdf", handle, "application/pdf"))])
    assert response.status_code == 201 and response.json()["added"] == 1
    documents = {d["source"]: d for d in client.get("/documents").json()}
    assert documents["kestrel-survey.pdf"]["format"] == "pdf" and documents["kestrel-survey.pdf"]["passages"] >= 3
    answer = client.post("/ask", json={"question": "How many nesting pairs did the Kestrel survey count?"}).json()
    assert answer["answer_citation"]["source"] == "kestrel-survey.pdf" and answer["answer_citation"]["page"] == 3

    doc_id = documents["kestrel-survey.pdf"]["doc_id"]
    assert client.delete(f"/documents/{doc_id}").json()["source"] == "kestrel-survey.pdf"
    assert "kestrel-survey.pdf" not in {d["source"] for d in client.get("/documents").json()}
    assert not list((library.index_dir / "uploads").rglob("kestrel-survey.pdf")), "the uploaded copy is deleted"
    assert client.delete(f"/documents/{doc_id}").status_code == 404
    assert client.get("/stats").json()["documents"] == 5 and client.get("/healthz").json() == {"status": "ok"}


def test_uploads_get_the_same_checks_as_the_ui(library):
    client = local_client(create_app(library))
    too_big = client.post("/documents", files=[("files", ("big.txt", b"Big\n\n" + b"words " * 400_000, "text/plain"))])
    assert too_big.status_code == 413 and too_big.json()["error"]["message"] == "the upload is over the 1 MB upload limit"
    binary = client.post("/documents", files=[("files", ("photo.txt", bytes(range(256)) * 10, "text/plain"))])
    assert binary.status_code == 422 and "binary file" in binary.json()["error"]["refused"][0]["reason"]
    assert len(client.get("/documents").json()) == 5


def test_with_a_key_every_request_must_carry_it(library):
    client = local_client(create_app(library, api_key="s3cret"))
    assert client.get("/healthz").status_code == 401 and client.get("/documents").status_code == 401
    assert client.get("/stats", headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/stats", headers={"X-API-Key": "s3cret"}).status_code == 200
    assert client.get("/stats", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_binding_another_address_without_a_key_refuses_to_start(capsys, monkeypatch):
    monkeypatch.delenv("DOCQA_API_KEY", raising=False)
    started = time.perf_counter()
    assert cli(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "--api-key" in err and "Traceback" not in err and err.count("\n") == 1
    assert time.perf_counter() - started < 5, "refused before the model loads"


def test_a_real_uvicorn_process_answers_lists_uploads_and_deletes(seed_index_copy, tmp_path):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--index", str(seed_index_copy), "--port", str(port)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=restore_sigint,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.time() < deadline, "the API did not start"
                time.sleep(0.5)
        request = urllib.request.Request(f"{base}/ask", data=json.dumps({"question": "Who founded SenseTime?"}).encode(),
                                         headers={"Content-Type": "application/json"})
        assert json.load(urllib.request.urlopen(request, timeout=60))["short"] == "Tang Xiao'ou"
        assert len(json.load(urllib.request.urlopen(f"{base}/documents", timeout=30))) == 5
        with open(make_pdf(tmp_path / "kestrel-survey.pdf"), "rb") as handle:
            uploaded = httpx.post(f"{base}/documents", files={"files": ("kestrel-survey.pdf", handle)}, timeout=120)
        assert uploaded.status_code == 201
        documents = httpx.get(f"{base}/documents").json()
        doc_id = next(d["doc_id"] for d in documents if d["source"] == "kestrel-survey.pdf")
        assert httpx.delete(f"{base}/documents/{doc_id}", timeout=120).status_code == 200
        assert len(httpx.get(f"{base}/documents").json()) == 5
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "docqa"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_last_document_cannot_be_deleted(tmp_path, embedder):
    from index.builder import IndexBuilder

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "note.txt").write_text("Pond log\n\nThe pond was dredged in May.")
    IndexBuilder(tmp_path / "index", progress=False, embedder=embedder)([tmp_path / "docs"])
    library = DocumentLibrary(tmp_path / "index", QA(IndexStore.open(tmp_path / "index"), embedder))
    client = local_client(create_app(library))
    (only,) = client.get("/documents").json()
    response = client.delete(f"/documents/{only['doc_id']}")
    assert response.status_code == 409 and "last document" in response.json()["error"]["message"]
    assert len(client.get("/documents").json()) == 1
