"""Two Kubernetes identities: investigations and the guard's reads use the read-only credential, and
only the executor's requests carry the act credential (checked at the HTTP boundary, by the bearer
token each request arrives with)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agent.assemble import AgentConfig, connect_guard
from policies.audit import AuditLog
from policies.audit_store import SqliteAuditStore
from policies.guard_graph import build_guard_graph
from tests.policies.guard_fixtures import ENFORCE, World, clock, enforce_policy
from tests.policies.test_guard import ROLLBACK, approve, image
from tools.backends import open_tool_context
from tools.config import ToolsConfig

WRITES = ("PATCH", "DELETE", "POST", "PUT")


@pytest.fixture
def proxy(world: World) -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """A loopback proxy in front of the emulator that records (method, path, bearer token)."""
    seen: list[tuple[str, str, str]] = []
    upstream = httpx.Client(base_url=world.url, timeout=10)

    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            seen.append((self.command, self.path.split("?")[0], token))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization")}
            answer = upstream.request(self.command, self.path, content=body, headers=headers)
            self.send_response(answer.status_code)
            for key, value in answer.headers.items():
                if key.lower() not in (
                    "transfer-encoding",
                    "content-encoding",
                    "content-length",
                    "connection",
                ):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_PATCH = do_DELETE = do_POST = do_PUT = _forward

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        upstream.close()


def kubeconfig(path: Path, url: str, token: str) -> Path:
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "{url}"}}}}]
users: [{{name: u, user: {{token: {token}}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
"""
    )
    return path


def test_only_the_executor_holds_the_act_credential(
    world: World, proxy: tuple[str, list[tuple[str, str, str]]], tmp_path: Path
) -> None:
    url, seen = proxy
    (tmp_path / "policy.yaml").write_text(ENFORCE)
    config = AgentConfig(
        tools=ToolsConfig(kubeconfig=kubeconfig(tmp_path / "read", url, "read-token")),
        act_kubeconfig=kubeconfig(tmp_path / "act", url, "act-token"),
    )
    with contextlib.ExitStack() as stack:
        context = open_tool_context(config.tools, clock())
        stack.callback(context.close)
        audit = AuditLog(SqliteAuditStore(tmp_path / "audit.db"), clock)
        guard = connect_guard(config, enforce_policy(), audit, clock, context, stack)
        assert guard is not None
        graph = build_guard_graph(guard, InMemorySaver())
        thread = {"configurable": {"thread_id": "t"}}
        graph.invoke({"action": ROLLBACK}, thread)
        graph.invoke(Command(resume=[approve(ROLLBACK)]), thread)
    assert image(world) == "shop/checkout:v1"
    writes = [(m, p, t) for m, p, t in seen if m in WRITES]
    assert writes, "the rollback was sent"
    assert {t for _, _, t in writes} == {"act-token"}, writes
    guard_reads = [(m, p, t) for m, p, t in seen if m == "GET" and t == "read-token"]
    assert guard_reads, "the guard reads the target's state with the read-only credential"
    assert {t for _, _, t in seen} <= {"read-token", "act-token"}


def test_without_an_act_credential_one_identity_does_both(world: World, tmp_path: Path) -> None:
    config = AgentConfig(tools=ToolsConfig(kubeconfig=kubeconfig(tmp_path / "kc", world.url, "only")))
    with contextlib.ExitStack() as stack:
        context = open_tool_context(config.tools, clock())
        stack.callback(context.close)
        guard = connect_guard(
            config,
            enforce_policy(),
            AuditLog(SqliteAuditStore(tmp_path / "a.db"), clock),
            clock,
            context,
            stack,
        )
        assert guard is not None
