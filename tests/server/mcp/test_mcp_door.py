"""The MCP door without a sandbox: lists page through cursors over real HTTP, a read tool added to the
registry is an MCP tool with no MCP change, and the calls a server cannot route are protocol errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, Field

from agent.assemble import AgentConfig
from server.app import create_app
from server.lifecycle import open_services
from server.mcp.door import Door
from server.mcp.identity import LOCAL_VIEWER
from server.mcp.server import build_server
from server.service_config import McpConfig, ServiceConfig
from server.store.proposals import ProposalStore
from tests.server.mcp.mcp_fixture import bearer, call, grants, mcp_client, text, uvicorn_serving
from tools.context import ToolContext
from tools.contract import ToolResult, tool
from tools.registry import Registry, default_registry
from tools.summary import count_tokens

INCIDENTS = 9
PAGE = 4


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service without a worker (incidents stay queued) and nine incidents to page through."""
    root = tmp_path_factory.mktemp("mcp-door")
    config = ServiceConfig(
        api_tokens=grants(), state_dir=root, run_worker=False, mcp=McpConfig(page_size=PAGE)
    )
    with uvicorn_serving(create_app(config, AgentConfig(state_dir=root))) as url:
        for n in range(INCIDENTS):
            body = {"question": f"why is service number {n} slow?", "as_of": "2026-03-02T14:00:00Z"}
            answer = httpx.post(f"{url}/v1/incidents", json=body, headers=bearer("responder"), timeout=10)
            assert answer.status_code == 202, answer.text
        yield url


def test_list_incidents_and_resources_page_through_cursors(service_url: str) -> None:
    async def session() -> None:
        async with mcp_client(service_url, "viewer") as client:
            seen, cursor, pages = [], None, 0
            while True:
                result = await call(client, "list_incidents", {"cursor": cursor} if cursor else {})
                assert not result.is_error, text(result)
                rows = result.structured_content["incidents"]
                assert len(rows) <= PAGE
                seen += [r["id"] for r in rows]
                pages += 1
                cursor = result.structured_content["next_cursor"]
                if cursor is None:
                    break
            assert pages == 3 and len(seen) == len(set(seen)) == INCIDENTS

            uris, resource_cursor = [], None
            while True:
                listed = await client.list_resources(cursor=resource_cursor)
                uris += [r.uri for r in listed.resources]
                resource_cursor = listed.next_cursor
                if resource_cursor is None:
                    break
            assert uris == [f"medic://incidents/{i}" for i in seen]  # newest first, like the API
            queued = await client.read_resource(uris[0])
            assert "queued: no report yet" in queued.contents[0].text

            bogus = await call(client, "list_incidents", {"cursor": "not-a-cursor"})
            assert bogus.is_error and "cursor" in text(bogus)
            with pytest.raises(MCPError, match="invalid cursor"):
                await client.list_resources(cursor="not-a-cursor")
            with pytest.raises(MCPError, match="no tool named 'get_incidnet'; did you mean get_incident"):
                await client.call_tool("get_incidnet", {"incident_id": seen[0]})
            with pytest.raises(MCPError, match="unknown resource"):
                await client.read_resource("file:///etc/passwd")
            with pytest.raises(MCPError, match="no incident"):
                await client.read_resource("medic://incidents/nope/chart.png")

    asyncio.run(session())


def test_the_triage_prompt_follows_medics_order(service_url: str) -> None:
    async def session() -> None:
        async with mcp_client(service_url, "viewer") as client:
            assert [p.name for p in (await client.list_prompts()).prompts] == ["triage"]
            prompt = await client.get_prompt("triage", {"incident_id": "inc-7"})
            body = prompt.messages[0].content
            assert isinstance(body, types.TextContent)
            order = [
                "firing_alerts",
                "golden_signals",
                "rank_root_causes",
                "kube_workload",
                "pod_logs",
                "propose_action",
            ]
            assert [body.text.index(name) for name in order] == sorted(
                body.text.index(name) for name in order
            )
            assert "medic://incidents/inc-7" in body.text and "never you" in body.text
            with pytest.raises(MCPError, match="not both"):
                await client.get_prompt("triage", {"incident_id": "inc-7", "question": "why?"})

    asyncio.run(session())


# -- a new read tool is an MCP tool by being in the registry ------------------------------------------
class EchoArgs(BaseModel):
    word: str = Field(min_length=1, max_length=20, description="what to echo")


@tool(effect="read")
def echo_word(ctx: ToolContext, args: EchoArgs) -> ToolResult:
    """Echo a word with the instant the call is about (a tool this test adds to the registry)."""
    return ToolResult(
        status="ok", summary=f"{args.word} at {ctx.as_of.isoformat()}", data={"word": args.word}
    )


@tool(effect="read")
def chatty_word(ctx: ToolContext, args: EchoArgs) -> ToolResult:
    """Answer far more than any summary budget allows (the registry must cut it)."""
    return ToolResult(status="ok", summary=" ".join([args.word] * 5000))


@contextlib.contextmanager
def _door(tmp_path: Path, registry: Registry) -> Iterator[Door]:
    service = ServiceConfig(state_dir=tmp_path, run_worker=False)
    with open_services(service, AgentConfig(state_dir=tmp_path)) as services:
        yield Door(
            services=services,
            proposals=ProposalStore(services.store.engine),
            registry=registry,
            context=ToolContext(as_of=datetime.now(UTC)),
            reports_dir=tmp_path / "reports",
            config=McpConfig(),
        )


def test_a_read_tool_added_to_the_registry_is_listed_and_called(tmp_path: Path) -> None:
    registry = Registry([*(spec.fn for spec in default_registry().specs), echo_word, chatty_word])
    with _door(tmp_path, registry) as door:
        server = build_server(door, lambda _ctx: LOCAL_VIEWER)

        async def session() -> None:
            async with Client(server) as client:
                tools = {t.name: t for t in (await client.list_tools()).tools}
                echo = tools["echo_word"]
                assert echo.description == registry.get("echo_word").description
                assert set(echo.input_schema["properties"]) == {"word", "as_of"}
                assert echo.annotations is not None and echo.annotations.read_only_hint is True
                said = await call(client, "echo_word", {"word": "hello", "as_of": "2026-03-02T14:00:00Z"})
                assert not said.is_error and text(said) == "hello at 2026-03-02T14:00:00+00:00"
                assert said.structured_content["data"] == {"word": "hello"}
                long = await call(client, "chatty_word", {"word": "again"})
                assert count_tokens(text(long)) <= door.context.config.summary_max_tokens
                assert long.structured_content["truncated"] is True
                bad = await call(client, "echo_word", {"word": ""})
                assert bad.is_error and "invalid arguments for echo_word: word" in text(bad)
                refused = await call(client, "ask", {"incident_id": "x", "text": "status?"})
                assert refused.is_error and "needs the responder role" in text(refused)

        asyncio.run(session())
