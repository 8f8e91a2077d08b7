"""``qa mcp --index PATH``: the index over the Model Context Protocol (stdio), with the official
``mcp`` SDK, so Claude Desktop, IDEs and agent hosts can ground their answers in a user's files.

Tools:
    search(query, k=5, mode="hybrid", where=[])  the top passages, each with its text and citation
    ask(question, k=5, history=[], where=[])     the short answer, its sentence and their citations
    (``history``: the earlier questions, so "When was it founded?" follows up; ``where``: clauses as
    ``qa ask --where`` takes them, e.g. ["path=notes/", "tag=python"])
    list_documents()                   the index's documents

A client's configuration (Claude Desktop's ``claude_desktop_config.json``)::

    {"mcpServers": {"docqa": {"command": "qa", "args": ["mcp", "--index", "/path/to/index"]}}}
"""
from __future__ import annotations

from dataclasses import asdict

try:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
except ImportError as error:
    raise ImportError("the MCP server needs the mcp SDK: pip install -e '.[mcp]'") from error
from pydantic import BaseModel

from qa.api import QA
from qa.retriever import DEFAULT_MODE, QuestionError
from qa.types import Citation

MAX_K = 50
_WHERE_HELP = ("Optional `where`: clauses that restrict the search to some documents, all of which must hold: "
               "path=docs/*.md, path=notes/, format=pdf, date>=2020-01-01, tag=python.")


class CitedPassage(BaseModel):
    rank: int
    text: str
    citation: dict


class Answered(BaseModel):
    question: str
    searched_for: str      # the question with the conversation's subject put in, else as asked
    answered: bool
    short: str | None
    answer: str
    answer_citation: dict | None
    short_citation: dict | None
    passages: list[CitedPassage]


class DocumentEntry(BaseModel):
    doc_id: str
    title: str
    source: str
    format: str
    published: str
    passages: int


def _citation(citation: Citation | None) -> dict | None:
    return asdict(citation) if citation else None


def create_server(qa: QA) -> MCPServer:
    """An MCP server whose tools answer from ``qa``; ``run("stdio")`` serves it."""
    server = MCPServer("docqa", instructions="Search and ask a local document index; every result carries its "
                                             "citation: the file's path, its lines (line_start, line_end; page for a PDF, "
                                             "paragraph for a Word file), the cited text and the section.")

    def asked(question: str, k: int, mode: str = DEFAULT_MODE, history: list[str] | None = None,
              where: list[str] | None = None):
        # A bad question is the client's to fix: a ToolError's line reaches it (any other error is hidden).
        if not 1 <= k <= MAX_K:
            raise ToolError(f"k must be between 1 and {MAX_K}")
        try:
            return qa.ask(question, k=k, mode=mode, history=history, where=where)   # QA.ask checks the question
        except QuestionError as error:
            raise ToolError(str(error)) from None

    @server.tool(description="Find the passages that best match a query, each with its citation. " + _WHERE_HELP)
    def search(query: str, k: int = 5, mode: str = DEFAULT_MODE, where: list[str] | None = None) -> list[CitedPassage]:
        answer = asked(query, k, mode, where=where)
        return [CitedPassage(rank=h.rank, text=h.passage.text, citation=_citation(h.citation)) for h in answer.hits]

    @server.tool(description="Answer a question from the documents: the short answer, the sentence it is in, "
                             "and where both are cited from. history: the earlier questions, oldest first, so "
                             "a follow-up such as 'When was it founded?' is searched with their subject. "
                             + _WHERE_HELP)
    def ask(question: str, k: int = 5, history: list[str] | None = None, where: list[str] | None = None) -> Answered:
        answer = asked(question, k, history=history, where=where)
        return Answered(question=question, searched_for=answer.searched_for, answered=answer.answered,
                        short=answer.short, answer=answer.answer,
                        answer_citation=_citation(answer.answer_citation),
                        short_citation=_citation(answer.short_citation),
                        passages=[CitedPassage(rank=h.rank, text=h.passage.text, citation=_citation(h.citation))
                                  for h in answer.hits])

    @server.tool(description="List the documents in the index.")
    def list_documents() -> list[DocumentEntry]:
        return [DocumentEntry(**{k: v for k, v in asdict(d).items() if k != "path"})
                for d in qa.store.document_summaries()]

    return server


def serve_stdio(qa: QA) -> None:
    """Serve ``qa`` over stdin/stdout until the client closes them."""
    create_server(qa).run("stdio")
