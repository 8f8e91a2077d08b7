"""``qa mcp``: driven over stdio by the mcp SDK's own client, as Claude Desktop or an IDE would."""
import os
import sys

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from support import REPO, WIKI_SEED


@pytest.mark.slow   # an MCP server subprocess over stdio: about 16 s
def test_an_mcp_client_lists_searches_and_asks_over_stdio(seed_index):
    server = StdioServerParameters(command=sys.executable, args=["-m", "qa", "mcp", "--index", str(seed_index)],
                                   cwd=str(REPO), env={k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"})

    async def session():
        async with Client(server) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            documents = await client.call_tool("list_documents", {})
            found = await client.call_tool("search", {"query": "Who founded SenseTime?", "k": 3})
            answered = await client.call_tool("ask", {"question": "When was SenseTime founded?"})
            empty = await client.call_tool("ask", {"question": "   "})
            followed = await client.call_tool("ask", {"question": "When was it founded?", "history": ["What is SenseTime?"]})
            return tools, documents, found, answered, empty, followed

    tools, documents, found, answered, empty, followed = anyio.run(session)
    assert {"search", "ask", "list_documents"} <= tools
    listed = documents.structured_content["result"]
    assert len(listed) == 5 and WIKI_SEED in {d["source"] for d in listed}
    hits = found.structured_content["result"]
    assert len(hits) == 3 and all(hit["citation"]["source"] and hit["text"] for hit in hits)
    answer = answered.structured_content
    assert answer["short"] == "October 2014" and answer["answer_citation"]["source"] == WIKI_SEED
    cited = answer["short_citation"]
    assert cited["path"].endswith(WIKI_SEED) and (cited["line_start"], cited["line_end"], cited["text"]) == (10, 10, "October 2014")
    assert all(hit["citation"]["path"] and hit["citation"]["line_start"] >= 1 for hit in hits)
    assert empty.is_error and "empty" in empty.content[0].text
    assert answer["searched_for"] == "When was SenseTime founded?"
    follow_up = followed.structured_content
    assert follow_up["searched_for"] == "When was SenseTime founded?" and follow_up["short"] == "October 2014"


def test_the_mcp_tools_take_an_optional_where(scoped_index):
    server = StdioServerParameters(command=sys.executable, args=["-m", "qa", "mcp", "--index", str(scoped_index)],
                                   cwd=str(REPO), env={k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"})
    question = "How many nesting pairs did the survey count?"

    async def session():
        async with Client(server) as client:
            found = await client.call_tool("search", {"query": question, "k": 3, "where": ["format=pdf"]})
            answered = await client.call_tool("ask", {"question": question, "where": ["path=notes/"]})
            refused = await client.call_tool("ask", {"question": question, "where": ["date>=soon"]})
            return found, answered, refused

    found, answered, refused = anyio.run(session)
    assert {hit["citation"]["source"] for hit in found.structured_content["result"]} == {"survey.pdf"}
    assert answered.structured_content["short"] == "42"
    assert refused.is_error and "not a date" in refused.content[0].text
