"""``qa serve``: the REST API (FastAPI), with OpenAPI docs at ``/docs``.

    POST   /ask                 {"question": ..., "k": 5, "mode": "hybrid"} -> the JSON of ``qa ask --json``
    GET    /documents           the index's documents: id, title, source, format, date, passages
    POST   /documents           multipart upload (field ``files``), the same checks as the web UI
    DELETE /documents/{doc_id}  re-index without it
    GET    /stats, /healthz

It binds 127.0.0.1 unless told otherwise; any other address needs an API key (``--api-key`` or
``$DOCQA_API_KEY``), which every request must then send as ``X-API-Key`` or ``Authorization:
Bearer``.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

try:
    from fastapi import Depends, FastAPI, File, HTTPException, Request, UploadFile
    from pydantic import BaseModel, Field
except ImportError as error:
    raise ImportError("the REST API needs FastAPI: pip install -e '.[serve]'") from error

from index.builder import NothingToIndex
from qa.library import DocumentLibrary
from qa.retriever import DEFAULT_MODE, QuestionError

API_KEY_ENV = "DOCQA_API_KEY"
_UPLOAD_CHUNK = 1 << 20


class AskRequest(BaseModel):
    question: str = Field(description="the question, in plain words")
    k: int = Field(5, ge=1, le=100, description="how many passages to return")
    mode: str = Field(DEFAULT_MODE, description="retrieval mode: hybrid, dense or bm25")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only.

    >>> [is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "192.168.1.5")]
    [True, True, True, False, False]
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(library: DocumentLibrary, api_key: str | None = None) -> FastAPI:
    """The API over ``library``; with ``api_key`` every request must carry it.

    Parameters:
        library: the live index the API answers from and changes.
        api_key: the key requests must send (``X-API-Key`` or ``Authorization: Bearer``), or None.
    """

    def check_key(request: Request) -> None:
        if not api_key:
            return
        sent = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(sent.encode(), api_key.encode()):
            raise HTTPException(status_code=401, detail="a valid API key is required (X-API-Key header)")

    app = FastAPI(title="docqa", description="Question answering over your documents, with citations.",
                  version="0.1.0", dependencies=[Depends(check_key)])

    @app.post("/ask", summary="Answer a question with cited passages")
    def ask(request: AskRequest) -> dict:
        try:
            return library.ask(request.question, k=request.k, mode=request.mode).to_dict()
        except QuestionError as error:
            raise HTTPException(status_code=422, detail=str(error)) from None

    @app.get("/documents", summary="List the indexed documents")
    def documents() -> list[dict]:
        return [{k: v for k, v in asdict(d).items() if k != "path"} for d in library.documents()]

    @app.post("/documents", summary="Upload documents and index them", status_code=201)
    def upload(files: list[UploadFile] = File(description="PDF, web page, Word, Markdown, wikitext or text")) -> dict:
        folder = Path(tempfile.mkdtemp(prefix="docqa-upload-"))
        try:
            saved, refused = [], []
            for index, upload in enumerate(files):
                name = Path(upload.filename or "").name
                if not name or name.startswith("."):
                    refused.append({"file": upload.filename or "", "reason": "a file name is required"})
                    continue
                target = folder / str(index) / name
                target.parent.mkdir()
                if not _save_within(upload, target, library.max_upload_bytes):
                    refused.append({"file": name, "reason": f"over the {library.max_upload_mb:g} MB upload limit"})
                    continue
                saved.append(target)
            report = library.add_files(saved) if saved else None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        refused += [{"file": w.path, "reason": w.reason} for w in (report.refused if report else ())]
        if report is None or report.error or not (report.added or report.changed):
            detail = {"error": report.error if report and report.error else "nothing was added", "refused": refused}
            raise HTTPException(status_code=422, detail=detail)
        return {"added": report.added, "changed": report.changed, "embedded": report.embedded, "refused": refused}

    @app.delete("/documents/{doc_id}", summary="Remove a document and re-index without it")
    def remove(doc_id: str) -> dict:
        try:
            document = library.remove(doc_id)
        except KeyError:
            raise HTTPException(status_code=404, detail=f"no document {doc_id!r} in this index") from None
        except NothingToIndex:
            raise HTTPException(status_code=409, detail="it is the index's last document; an index cannot be empty") from None
        return {"removed": doc_id, "title": document.title, "source": document.source}

    @app.get("/stats", summary="What the index holds")
    def stats() -> dict:
        return asdict(library.stats())

    @app.get("/healthz", summary="Liveness")
    def healthz() -> dict:
        return {"status": "ok"}

    return app


def _save_within(upload: UploadFile, target: Path, limit: int) -> bool:
    """Copy an upload to ``target``, stopping (and deleting it) once it passes ``limit`` bytes."""
    written = 0
    with open(target, "wb") as out:
        while chunk := upload.file.read(_UPLOAD_CHUNK):
            written += len(chunk)
            if written > limit:
                break
            out.write(chunk)
    if written > limit:
        target.unlink()
        return False
    return True


def checked_key(host: str, api_key: str | None = None) -> str | None:
    """The key the API will require (``api_key``, else ``$DOCQA_API_KEY``); ``ValueError`` when
    ``host`` is not a loopback address and there is none."""
    api_key = api_key or os.environ.get(API_KEY_ENV) or None
    if not is_loopback(host) and not api_key:
        raise ValueError(f"binding {host} makes the API reachable from other machines: give it a key "
                         f"with --api-key or ${API_KEY_ENV}, or bind 127.0.0.1")
    return api_key


def serve(library: DocumentLibrary, host: str = "127.0.0.1", port: int = 8000, api_key: str | None = None) -> None:
    """Run the API with uvicorn until interrupted; refused (``checked_key``) before anything binds."""
    api_key = checked_key(host, api_key)
    import uvicorn

    uvicorn.run(create_app(library, api_key), host=host, port=port, log_level="warning")
