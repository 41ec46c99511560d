"""`medic serve` in this process on 127.0.0.1 (uvicorn, a free port) against a sandbox of the module's
own, with MCP clients of the official SDK: tokens per role with the `mcp` scope, a policy in enforce
mode, and helpers to call tools and wait for incidents."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import httpx2
import mcp_types as types
import pytest
import uvicorn
from fastapi import FastAPI
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from agent.assemble import AgentConfig
from evals.sandbox.sandbox import SandboxConfig, SandboxInfo, down, up
from evals.scenario import Scenario, load_scenario
from evals.triage import sandbox_agent_config
from server.app import create_app
from server.auth import TokenGrant, token_hash
from server.service_config import McpConfig, ServiceConfig, WorkerConfig
from tests.server.serve_process import free_port
from tests.server.service_fixture import ENFORCE
from tools.config import ToolsConfig
from tools.summary import count_tokens

TOKENS = {
    "viewer": ("vera", ["viewer"], ["api", "mcp"]),
    "responder": ("rick", ["responder"], ["api", "mcp"]),
    "approver": ("carol", ["approver", "sre"], ["api", "mcp"]),
    "api-only": ("ann", ["responder"], ["api"]),
}
PAGE_SIZE = 7  # small, so that listing the tools takes several pages


def grants() -> list[TokenGrant]:
    return [
        TokenGrant(subject=subject, sha256=token_hash(f"mcp-token-{name}"), roles=roles, scopes=scopes)  # type: ignore[arg-type]
        for name, (subject, roles, scopes) in TOKENS.items()
    ]


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer mcp-token-{name}"}


@dataclass
class McpService:
    url: str  # the service's base URL; MCP is at url + /mcp
    scenario: Scenario
    info: SandboxInfo
    agent: AgentConfig
    reports_dir: Path

    def client(
        self, token: str | None, *, mode: str = "auto"
    ) -> contextlib.AbstractAsyncContextManager[Client]:
        """An MCP client of the official SDK over streamable HTTP, with `token`'s bearer header."""
        return mcp_client(self.url, token, mode=mode)


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
    result = await client.call_tool(tool, arguments)
    assert isinstance(result, types.CallToolResult)
    return result


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def wait_for(
    client: Client, incident_id: str, states: set[str], timeout_s: float = 120
) -> dict[str, Any]:
    """Poll get_incident (as an MCP client would) until the incident is in one of `states`."""
    import anyio

    deadline = time.monotonic() + timeout_s
    view: dict[str, Any] = {}
    while time.monotonic() < deadline:
        result = await call(client, "get_incident", {"incident_id": incident_id})
        assert not result.is_error, text(result)
        assert count_tokens(text(result)) <= ToolsConfig().summary_max_tokens  # the registry's budget
        view = result.structured_content
        if view["state"] in states:
            return view
        await anyio.sleep(0.3)
    raise AssertionError(f"{incident_id} stayed {view.get('state')}, wanted {states}")


def replicas(service: McpService, name: str) -> int:
    api = k8s_config.new_client_from_config(str(service.info.kubeconfig))
    try:
        deployment = k8s.AppsV1Api(api).read_namespaced_deployment(name, service.scenario.topology.namespace)
        return int(deployment.spec.replicas)
    finally:
        api.close()


def answer_over_api(service: McpService, incident_id: str, action_id: str, verdict: str) -> None:
    """An approver answers over the HTTP API (never over MCP)."""
    response = httpx.post(
        f"{service.url}/v1/incidents/{incident_id}/actions/{action_id}/approval",
        json={"verdict": verdict, "comment": "from the test"},
        headers=bearer("approver"),
        timeout=10,
    )
    assert response.status_code == 202, response.text


@contextlib.contextmanager
def serving(scenario: Scenario, info: SandboxInfo, run_dir: Path) -> Iterator[McpService]:
    """The app with its worker, served by uvicorn in a thread until the block ends."""
    policy = run_dir / "policy.yaml"
    policy.write_text(ENFORCE)
    agent = sandbox_agent_config(AgentConfig(policy_file=policy), info, run_dir / "run")
    reports = run_dir / "reports"
    config = ServiceConfig(
        api_tokens=grants(),
        state_dir=run_dir / "run",
        worker=WorkerConfig(concurrency=2, poll_s=0.1, reports_dir=reports),
        mcp=McpConfig(page_size=PAGE_SIZE, propose_wait_s=60),
    )
    with uvicorn_serving(create_app(config, agent)) as url:
        yield McpService(url, scenario, info, agent, reports)


@contextlib.contextmanager
def uvicorn_serving(app: FastAPI) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-mcp", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the service did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)


@contextlib.asynccontextmanager
async def mcp_client(url: str, token: str | None, *, mode: str = "auto") -> AsyncIterator[Client]:
    """An MCP client of the official SDK over streamable HTTP to `url`/mcp, with `token`'s bearer header."""
    http = httpx2.AsyncClient(headers=bearer(token) if token else {}, timeout=60)
    async with http, Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode) as client:
        yield client


@pytest.fixture(scope="module")
def mcp_service(tsdb_cache: Path) -> Iterator[McpService]:
    """One sandbox and one service per test module (actions executed here change only this sandbox; its
    TSDB is copied from the session's first backfill)."""
    scenario = load_scenario("checkout-bad-deploy")
    root = Path(tempfile.mkdtemp(prefix="medic-mcp-"))
    sandbox = SandboxConfig(state_dir=root / "sandbox", start_timeout_s=90, tsdb_cache_dir=tsdb_cache)
    info = up(scenario, sandbox)
    try:
        with serving(scenario, info, root) as service:
            yield service
    finally:
        down(scenario.id, sandbox)
        shutil.rmtree(root, ignore_errors=True)
