"""`medic mcp` spawned as a local assistant spawns it (stdio, the official client), against the
sandbox's backends: a viewer without a token file, a token file's subject never with the approver
role. Nothing here can change the shared sandbox: no one approves over stdio."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from evals.sandbox.sandbox import SandboxInfo
from evals.scenario import Scenario
from policies.audit import AuditLog
from policies.audit_store import SqliteAuditStore
from server.auth import Forbidden, Unauthorized
from server.mcp.identity import LOCAL_VIEWER, TokenFileError, stdio_principal
from tests.policies.guard_fixtures import clock
from tests.sandbox_fixture import SandboxPool
from tests.server.mcp.mcp_fixture import call, grants, text, wait_for
from tests.server.medic_process import MEDIC, ROOT, env_file_values, medic
from tools.registry import default_registry


def _env(info: SandboxInfo, state: Path) -> dict[str, str]:
    return {
        **env_file_values(Path(info.env_file)),
        "PYTHONPATH": str(ROOT),
        "HOME": str(state),
        "MEDIC_STATE_DIR": str(state),
        "MEDIC_AUDIT_URL": str(state / "audit.db"),
        "MEDIC_RECOVERY_WITHIN_S": "0",
        "MEDIC_API_TOKENS": json.dumps([g.model_dump() for g in grants()]),
    }


@contextlib.asynccontextmanager
async def _medic_mcp(env: dict[str, str], cwd: Path, log: IO[str], *args: str) -> AsyncIterator[Client]:
    params = StdioServerParameters(command=MEDIC, args=["mcp", *args], env=env, cwd=cwd)
    async with Client(stdio_client(params, errlog=log), read_timeout_seconds=120) as client:
        yield client


@pytest.fixture
def sandbox(sandbox_pool: SandboxPool) -> tuple[Scenario, SandboxInfo]:
    return sandbox_pool.get("checkout-bad-deploy")


@pytest.mark.sandbox
def test_without_a_token_file_it_lists_every_tool_and_refuses_propose_action(
    sandbox: tuple[Scenario, SandboxInfo], tmp_path: Path
) -> None:
    scenario, info = sandbox
    registry = default_registry()

    async def session(log: IO[str]) -> None:
        async with _medic_mcp(_env(info, tmp_path), tmp_path, log) as client:
            tools = (await client.list_tools()).tools
            reads = [s.name for s in registry.specs if s.effect == "read"]
            assert [t.name for t in tools] == [
                *reads,
                "investigate",
                "get_incident",
                "list_incidents",
                "ask",
                "propose_action",
            ]
            pods = await call(
                client, "kube_pods", {"namespace": "boutique", "as_of": scenario.end_utc.isoformat()}
            )
            assert not pods.is_error and "checkoutservice" in text(pods)  # the configured backends answer
            refused = await call(
                client,
                "propose_action",
                {"incident_id": "any", "kind": "rollback", "target": "boutique/deployment/checkoutservice"},
            )
            assert refused.is_error
            assert (
                text(refused) == "propose_action needs the responder role; local-viewer has viewer over MCP"
            )

    with (tmp_path / "server.log").open("w") as log:
        asyncio.run(session(log))


# Enforce mode, where restarts are allowed outright and everything else is denied: medic's own
# rollback is denied, and a restart proposed over MCP still waits for a person (none comes here).
RESTARTS_ALLOWED = """
version: 1
mode: enforce
default: deny
rules:
  - name: restarts
    kinds: [rollout_restart]
    effect: allow
limits:
  per_target: {max_actions: 100, window: 1h}
"""


@pytest.mark.sandbox
def test_a_token_files_subject_proposes_and_even_an_allowed_action_waits_for_a_person(
    sandbox: tuple[Scenario, SandboxInfo], tmp_path: Path
) -> None:
    scenario, info = sandbox
    token_file = tmp_path / "token"
    token_file.write_text("mcp-token-approver\n")  # an approver's token: proposes, never approves
    policy = tmp_path / "policy.yaml"
    policy.write_text(RESTARTS_ALLOWED)
    env = {**_env(info, tmp_path), "MEDIC_POLICY_FILE": str(policy)}
    alert = scenario.alert
    assert alert is not None

    async def session(log: IO[str]) -> str:
        async with _medic_mcp(env, tmp_path, log, "--token-file", str(token_file)) as client:
            await client.list_tools()
            arguments = {"alert_labels": alert.labels, "as_of": scenario.end_utc.isoformat()}
            opened = await call(client, "investigate", arguments)
            assert not opened.is_error, text(opened)
            incident_id = opened.structured_content["id"]
            view = await wait_for(client, incident_id, {"finished", "awaiting_approval", "failed"})
            assert view["state"] == "finished" and view["opened_by"] == "carol"  # investigated here
            assert view["guard"]["stage"] == "denied"  # medic's own rollback: no rule allows it
            restart = {
                "incident_id": incident_id,
                "kind": "rollout_restart",
                "target": "boutique/deployment/frontend",
            }
            proposed = await call(client, "propose_action", restart)
            assert not proposed.is_error, text(proposed)
            answer = proposed.structured_content
            assert answer["state"] == "awaiting_approval" and answer["requested_by"] == "carol"
            assert answer["decision"] == "require_approval (enforce mode)" and answer["executed"] is False
            assert any(r.startswith("door (require_approval)") for r in answer["reasons"])
            return str(answer["action_id"])

    with (tmp_path / "server.log").open("w") as log:
        action_id = asyncio.run(session(log))
    audit = AuditLog(SqliteAuditStore(tmp_path / "audit.db"), clock)
    assert [r.kind for r in audit.show(action_id=action_id)] == ["proposal", "decision", "dry_run"]


def test_the_stdio_identity_is_the_token_files_subject_without_approver(tmp_path: Path) -> None:
    assert stdio_principal(None, grants()) == LOCAL_VIEWER
    token_file = tmp_path / "token"
    token_file.write_text("mcp-token-approver\n")
    carol = stdio_principal(token_file, grants())
    assert carol.subject == "carol" and carol.roles == ["responder", "sre"]
    assert carol.can("responder") and not carol.can("approver")
    token_file.write_text("mcp-token-api-only")
    with pytest.raises(Forbidden, match="mcp"):
        stdio_principal(token_file, grants())
    token_file.write_text("not-a-token")
    with pytest.raises(Unauthorized):
        stdio_principal(token_file, grants())
    token_file.write_text("\n")
    with pytest.raises(TokenFileError, match="empty"):
        stdio_principal(token_file, grants())


def test_a_bad_token_file_stops_medic_mcp_with_a_message(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("not-a-token")
    env = {
        "PYTHONPATH": str(ROOT),
        "MEDIC_API_TOKENS": json.dumps([g.model_dump() for g in grants()]),
        "MEDIC_STATE_DIR": str(tmp_path),
    }
    result = medic("mcp", "--token-file", str(token_file), cwd=tmp_path, env=env, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert "unknown token" in result.stderr
