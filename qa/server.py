"""``qa serve``: the REST API (FastAPI), with OpenAPI docs at ``/docs`` (served from local files).

    POST   /ask                 {"question": ..., "k": 5, "mode": "hybrid", "history": [earlier questions],
                                 "where": ["path=notes/"]}
                                -> the JSON of ``qa ask --json`` (``searched_for``: the question searched)
    GET    /documents           the index's documents: id, title, source, format, date, passages
    POST   /documents           multipart upload (field ``files``), the same checks as the web UI
    DELETE /documents/{doc_id}  re-index without it
    GET    /stats, /healthz

It binds 127.0.0.1 unless told otherwise; any other address needs an API key (``--api-key`` or
``$DOCQA_API_KEY``), which every request, the docs included, must then send as ``X-API-Key`` or
``Authorization: Bearer KEY``. Every error has one shape: ``{"error": {"code": ..., "message": ...}}``.

Before a route reads a byte of the body, ``RequestGuard`` checks, in order: the ``Host`` header
(loopback names and those given with ``allowed_hosts``, against DNS rebinding), the ``Origin`` of a
writing request (same origin only, against cross-site forms), the key, and the declared body size;
the bytes actually read are counted too, so a chunked body stops at the limit.
"""
from __future__ import annotations

import hmac
import ipaddress
import re
from dataclasses import asdict
from typing import Annotated, Literal
from urllib.parse import urlsplit

try:
    from fastapi import FastAPI, File, HTTPException, Request, UploadFile
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from fastapi_offline import FastAPIOffline
    from pydantic import BaseModel, Field, field_validator
    from starlette.datastructures import Headers
    from fastapi.openapi.utils import get_openapi
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.routing import Match
except ImportError as error:
    raise ImportError("the REST API needs FastAPI: pip install -e '.[serve]'") from error

from index.builder import NothingToIndex
from index.settings import API_KEY_ENV, current_settings
from index.scope import ACCEPTED_FORMS, CLAUSE_PATTERN, MAX_CLAUSE_CHARS, MAX_CLAUSES, Scope, ScopeError
from qa.api import IndexStats
from qa.library import DocumentLibrary, IncomingFile
from qa.retriever import DEFAULT_MODE, MAX_QUESTION_CHARS, MODES, QuestionError, check_is_text, check_question
from qa.types import Answer

JSON_BODY_LIMIT = 1 << 20          # /ask and every route but the upload
MULTIPART_SLACK = 64 * 1024        # the multipart framing around an upload's bytes
MAX_NAME_BYTES = 255               # what a file name may take on ext4, APFS and NTFS
WRITING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UPLOAD_PATH = "/documents"
MAX_HISTORY_QUESTIONS = 50         # more are refused; the last few are the ones read (qa.followup)


class RefusedFile(BaseModel):
    file: str
    reason: str


class ErrorDetail(BaseModel):
    code: str = Field(description="a stable name for the kind of error, e.g. unauthorized, too_large")
    message: str = Field(description="one line for a person")
    refused: list[RefusedFile] = Field(default_factory=list, description="uploads: each file not indexed and why")


class ErrorResponse(BaseModel):
    """The body of every error the API returns."""

    error: ErrorDetail


class AskRequest(BaseModel):
    # The schema says what the server checks (a non-space character, at most MAX_QUESTION_CHARS), so a
    # request the schema allows is never refused; the validator gives the clear message.
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, json_schema_extra={"pattern": r"\S"},
                          description="the question, in plain words")
    k: int = Field(5, ge=1, le=100, description="how many passages to return")
    mode: Literal[MODES] = Field(DEFAULT_MODE, description="retrieval mode")
    history: list[Annotated[str, Field(max_length=MAX_QUESTION_CHARS)]] = Field(
        default_factory=list, max_length=MAX_HISTORY_QUESTIONS,
        description="the conversation's earlier questions, oldest first: a follow-up whose subject is a pronoun "
                    "or missing (\"When was it founded?\") is searched with the last one's subject, and the "
                    "answer's searched_for says how")

    @field_validator("history")
    @classmethod
    def _history_is_text(cls, history: list[str]) -> list[str]:
        try:
            for earlier in history:
                check_is_text(earlier, "an earlier question")
        except QuestionError as error:
            raise ValueError(str(error)) from None
        return history

    # Each clause's pattern is what the validator checks, so a clause the schema allows always parses.
    where: list[Annotated[str, Field(max_length=MAX_CLAUSE_CHARS, json_schema_extra={"pattern": CLAUSE_PATTERN})]] = Field(
        default_factory=list, max_length=MAX_CLAUSES,
        description="answer from the documents these clauses all allow, as qa ask --where: path=docs/*.md, "
                    "path=notes/, format=pdf, date>=2020-01-01, tag=python (a front-matter field: = or !=)",
        examples=[["path=notes/", "date>=2020"]])

    @field_validator("where")
    @classmethod
    def _scope(cls, where: list[str]) -> list[str]:
        try:
            Scope.parse(where)
        except ScopeError as error:
            raise ValueError(str(error)) from None
        for clause in where:
            if not re.fullmatch(CLAUSE_PATTERN, clause):
                raise ValueError(f"where clause {clause[:60]!r} is not one the API takes (a field other than the "
                                 f"date takes = or !=); use {ACCEPTED_FORMS}")
        return where

    @field_validator("question")
    @classmethod
    def _answerable(cls, question: str) -> str:
        try:
            check_question(question)
        except QuestionError as error:
            raise ValueError(str(error)) from None
        return question


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    source: str
    format: str
    published: str
    passages: int


class UploadResponse(BaseModel):
    added: int
    changed: int
    embedded: int
    refused: list[RefusedFile]


class RemoveResponse(BaseModel):
    removed: str
    title: str
    source: str


class Health(BaseModel):
    status: str


class ApiError(Exception):
    """An error the API answers with ``ErrorResponse``."""

    def __init__(self, status: int, code: str, message: str, refused: list[RefusedFile] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.refused = status, code, message, refused or []

    def response(self) -> JSONResponse:
        body = ErrorResponse(error=ErrorDetail(code=self.code, message=self.message, refused=self.refused))
        return JSONResponse(body.model_dump(exclude_defaults=False), status_code=self.status)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only.

    >>> [is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "192.168.1.5")]
    [True, True, True, False, False]
    """
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port or IPv6 brackets.

    >>> [host_name(h) for h in ("127.0.0.1:8000", "[::1]:80", "LocalHost", "attacker.example:8000")]
    ['127.0.0.1', '::1', 'localhost', 'attacker.example']
    """
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    name, _, port = header.rpartition(":")
    return name if name and port.isdigit() else header


def sent_key(headers: Headers) -> str | None:
    """The key a request carries: ``X-API-Key``, or ``Authorization: Bearer KEY`` (a bare key is not one)."""
    if "x-api-key" in headers:
        return headers["x-api-key"]
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


class BodyTooLarge(HTTPException):
    pass


class RequestGuard:
    """ASGI middleware: refuses a request on its headers before the route reads any of its body,
    and stops a body that grows past its limit while it is read (see the module's docstring)."""

    def __init__(self, app, *, api_key: str | None, allowed_hosts: tuple[str, ...], upload_limit: int,
                 upload_mb: float):
        self.app, self.api_key, self.allowed_hosts = app, api_key, allowed_hosts
        self.upload_limit, self.upload_mb = upload_limit, upload_mb

    def refusal(self, scope, headers: Headers) -> ApiError | None:
        host = host_name(headers.get("host", ""))
        if "*" not in self.allowed_hosts and not (is_loopback(host) or host in self.allowed_hosts):
            return ApiError(403, "host_not_allowed", f"the Host {host!r} is not one this server answers to "
                                                     f"(start it with --allow-host {host} to allow it)")
        if scope["method"] in WRITING_METHODS:
            origin = headers.get("origin")
            if headers.get("sec-fetch-site") == "cross-site" or (
                    origin is not None and urlsplit(origin).netloc.lower() != headers.get("host", "").lower()):
                return ApiError(403, "cross_origin", "a writing request from another site is refused")
        if self.api_key:
            key = sent_key(headers)
            if key is None or not hmac.compare_digest(key.encode("utf-8", "surrogateescape"), self.api_key.encode()):
                return ApiError(401, "unauthorized", "a valid API key is required "
                                                     "(X-API-Key: KEY or Authorization: Bearer KEY)")
        return None

    def body_limit(self, scope) -> tuple[int, str]:
        if scope["path"] == UPLOAD_PATH:
            return self.upload_limit + MULTIPART_SLACK, f"the upload is over the {self.upload_mb:g} MB upload limit"
        return JSON_BODY_LIMIT, f"the request body is over {JSON_BODY_LIMIT >> 20} MB"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        refused = self.refusal(scope, headers)
        limit, too_large = self.body_limit(scope)
        declared = headers.get("content-length")
        if refused is None and declared is not None and (not declared.isdigit() or int(declared) > limit):
            refused = ApiError(413, "too_large", too_large if declared.isdigit() else "a bad Content-Length")
        if refused is not None:
            return await refused.response()(scope, receive, send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(413, too_large)
            return message

        await self.app(scope, counted, send)


def _checked_name(name: str) -> tuple[str, str]:
    """``(name, "")`` for an acceptable upload name (its last path part), else ``("", reason)``."""
    if "\x00" in name:
        return "", "a file name may not hold a NUL character"
    if "\\" in name:
        return "", "a file name may not hold a backslash"
    name = name.rpartition("/")[2]
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "", "the file name holds a lone surrogate, not text"
    if not name or name.startswith("."):
        return "", "a file name is required (and may not start with a dot)"
    if size > MAX_NAME_BYTES:
        return "", f"the file name is {size} bytes long; at most {MAX_NAME_BYTES} are allowed"
    return name, ""


ERROR_RESPONSES = {status: {"model": ErrorResponse, "description": description} for status, description in (
    (400, "the body cannot be parsed"), (401, "no valid API key"), (403, "a Host or Origin this server does not answer to"),
    (413, "the body is over its limit"), (422, "the request is not valid"), (500, "an internal error"))}


def create_app(library: DocumentLibrary, api_key: str | None = None,
               allowed_hosts: tuple[str, ...] = ()) -> FastAPI:
    """The API over ``library``; with ``api_key`` every request must carry it.

    Parameters:
        library: the live index the API answers from and changes.
        api_key: the key requests must send (``X-API-Key`` or ``Authorization: Bearer``), or None.
        allowed_hosts: ``Host`` names accepted besides the loopback ones; ``"*"`` accepts any.
    """
    app = FastAPIOffline(title="docqa", description="Question answering over your documents, with citations.",
                         version="0.1.0", responses=ERROR_RESPONSES)
    app.add_middleware(RequestGuard, api_key=api_key, allowed_hosts=tuple(h.lower() for h in allowed_hosts),
                       upload_limit=library.max_upload_bytes, upload_mb=library.max_upload_mb)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, error: ApiError) -> JSONResponse:
        return error.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {400: "bad_body", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            error.status_code, "http_error")
        response = ApiError(error.status_code, code, str(error.detail)).response()
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        if error.status_code == 405:
            # Starlette names the methods of the first route on the path only; GET and POST
            # /documents are two routes.
            methods = {m for route in app.routes if route.matches(request.scope)[0] != Match.NONE
                       for m in getattr(route, "methods", None) or ()}
            response.headers["Allow"] = ", ".join(sorted(methods))
        return response

    def openapi() -> dict:
        if not app.openapi_schema:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            # An upload of no file is refused, so the schema says an upload holds at least one.
            schema["components"]["schemas"]["Body_upload_documents_post"]["properties"]["files"]["minItems"] = 1
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        # The message names the field and the rule, never the input: an echoed 1e400 or NaN
        # cannot be written as JSON, and an echoed lone surrogate cannot be written as UTF-8.
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
        return ApiError(422, "invalid_request", f"{where}: {message}" if where else message).response()

    @app.exception_handler(Exception)
    async def internal(_request: Request, error: Exception) -> JSONResponse:
        return ApiError(500, "internal_error", f"internal error: {type(error).__name__}").response()

    @app.post("/ask", summary="Answer a question with cited passages", response_model=Answer)
    def ask(request: AskRequest) -> dict:
        try:
            return library.ask(request.question, k=request.k, mode=request.mode, history=request.history,
                               where=request.where).to_dict()
        except QuestionError as error:
            raise ApiError(422, "invalid_question", str(error)) from None

    @app.get("/documents", summary="List the indexed documents", response_model=list[DocumentOut])
    def documents() -> list[dict]:
        return [{k: v for k, v in asdict(d).items() if k != "path"} for d in library.documents()]

    @app.post("/documents", summary="Upload documents and index them", status_code=201, response_model=UploadResponse)
    def upload(files: list[UploadFile] = File(description="PDF, web page, Word, Markdown, wikitext or text")) -> dict:
        incoming, refused = [], []
        for upload in files:
            name, reason = _checked_name(upload.filename or "")
            if reason:
                refused.append(RefusedFile(file=(upload.filename or "").encode("utf-8", "replace").decode()[:80],
                                           reason=reason))
            else:
                incoming.append(IncomingFile(name, upload.file))
        report = library.add_streams(incoming) if incoming else None
        refused += [RefusedFile(file=w.path, reason=w.reason) for w in (report.refused if report else ())]
        if report is None or report.error or not (report.added or report.changed):
            reason = report.error if report and report.error else (refused[0].reason if refused else "no file given")
            raise ApiError(422, "nothing_added", f"nothing was added: {reason}", refused)
        return {"added": report.added, "changed": report.changed, "embedded": report.embedded, "refused": refused}

    @app.delete("/documents/{doc_id}", summary="Remove a document and re-index without it", response_model=RemoveResponse,
                responses={404: {"model": ErrorResponse, "description": "no such document"},
                           409: {"model": ErrorResponse, "description": "the index's last document"}})
    def remove(doc_id: str) -> dict:
        try:
            document = library.remove(doc_id)
        except KeyError:
            raise ApiError(404, "not_found", f"no document {doc_id!r} in this index") from None
        except NothingToIndex:
            raise ApiError(409, "last_document", "it is the index's last document; an index cannot be empty") from None
        return {"removed": doc_id, "title": document.title, "source": document.source}

    @app.get("/stats", summary="What the index holds", response_model=IndexStats)
    def stats() -> dict:
        return asdict(library.stats())

    @app.get("/healthz", summary="Liveness", response_model=Health)
    def healthz() -> dict:
        return {"status": "ok"}

    return app


def checked_key(host: str, api_key: str | None = None) -> str | None:
    """The key the API will require (``api_key``, else ``$DOCQA_API_KEY``); ``ValueError`` when
    ``host`` is not a loopback address and there is none."""
    api_key = api_key or current_settings().api_key
    if not is_loopback(host) and not api_key:
        raise ValueError(f"binding {host} makes the API reachable from other machines: give it a key "
                         f"with --api-key or ${API_KEY_ENV}, or bind 127.0.0.1")
    return api_key


def serve(library: DocumentLibrary, host: str = "127.0.0.1", port: int = 8000, api_key: str | None = None,
          allowed_hosts: tuple[str, ...] = ()) -> None:
    """Run the API with uvicorn until interrupted; refused (``checked_key``) before anything binds.
    Bound to another address than loopback, any ``Host`` is answered unless ``allowed_hosts`` names
    some: the key, which such a server requires, is what guards it there."""
    api_key = checked_key(host, api_key)
    if not is_loopback(host) and not allowed_hosts:
        allowed_hosts = ("*",)
    import uvicorn

    uvicorn.run(create_app(library, api_key, allowed_hosts), host=host, port=port, log_level="warning")
