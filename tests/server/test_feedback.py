"""Feedback on an incident through the API and the CLI: kept in the store, on the timeline, with
errors that say what to fix."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from server.auth import token_hash
from server.cli import app
from server.store.memory import feedback_of
from tests.server.api_fixture import services_of
from tests.server.service_fixture import TOKENS, auth
from tools.memory.local import FolderMemory
from tools.memory.model import IncidentSignature, PastIncident

QUESTION = {"question": "why is checkout failing?", "namespace": "shop"}


def _incident(api: TestClient) -> str:
    opened = api.post("/v1/incidents", json=QUESTION, headers=auth("responder"))
    assert opened.status_code == 202, opened.text
    return str(opened.json()["id"])


def test_a_correction_is_kept_and_shown_on_the_incident(api: TestClient) -> None:
    incident_id = _incident(api)
    body = {"verdict": "wrong", "cause": {"service": "payments", "kind": "memory_leak"},
            "fixed_by": "restarted payments", "notes": "the cache grew"}  # fmt: skip
    fed = api.post(f"/v1/incidents/{incident_id}/feedback", json=body, headers=auth("responder"))
    assert fed.status_code == 201, fed.text
    timeline = api.get(f"/v1/incidents/{incident_id}", headers=auth("viewer")).json()["timeline"]
    [event] = [e for e in timeline if e["kind"] == "feedback"]
    assert event["text"] == (
        "rick: the verdict was wrong; true cause: payments:memory_leak; fixed by restarted payments; "
        "notes: the cache grew"
    )
    assert event["data"]["cause"] == {"service": "payments", "kind": "memory_leak"}
    [kept] = feedback_of(services_of(api).store.engine, [incident_id])[incident_id]
    assert (kept.verdict, kept.by, kept.fixed_by) == ("wrong", "rick", "restarted payments")
    assert kept.cause is not None and (kept.cause.service, kept.cause.kind) == ("payments", "memory_leak")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"verdict": "maybe"}, "say `right` or `wrong`"),
        ({"verdict": "wrong", "cause": {"service": "payments", "kind": "leak"}}, "memory_leak"),
        ({"verdict": "wrong", "cause": {"service": "pay ments"}}, "a service name"),
        ({"verdict": "right", "fixd_by": "x"}, "fixd_by"),
    ],
)
def test_bad_feedback_says_what_to_fix(api: TestClient, body: dict[str, object], says: str) -> None:
    answer = api.post(f"/v1/incidents/{_incident(api)}/feedback", json=body, headers=auth("responder"))
    assert answer.status_code == 422 and says in answer.text


def test_feedback_on_an_unknown_incident_is_a_404(api: TestClient) -> None:
    answer = api.post("/v1/incidents/nope/feedback", json={"verdict": "right"}, headers=auth("responder"))
    assert answer.status_code == 404


def _cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    grants = [{"subject": s, "sha256": token_hash(f"token-{n}"), "roles": r}
              for n, (s, r, _scopes) in TOKENS.items()]  # fmt: skip
    monkeypatch.setenv("MEDIC_API_TOKENS", json.dumps(grants))
    monkeypatch.setenv("MEDIC_STATE_DIR", str(tmp_path))
    token = tmp_path / "token"
    token.write_text("token-responder\n")
    return token


def test_the_cli_records_feedback_in_the_incident_store(
    api: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id = _incident(api)  # the api fixture's store is the SQLite file in tmp_path
    token = _cli_env(tmp_path, monkeypatch)
    args = ["incident", "feedback", incident_id, "--wrong", "--cause", "payments:memory_leak",
            "--fixed-by", "restarted payments", "--token-file", str(token)]  # fmt: skip
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "the verdict was wrong; true cause: payments:memory_leak" in done.output
    [kept] = feedback_of(services_of(api).store.engine, [incident_id])[incident_id]
    assert kept.by == "rick" and kept.fixed_by == "restarted payments"
    bad_kind = CliRunner().invoke(app, [*args[:4], "--cause", "payments:leak", "--token-file", str(token)])
    assert bad_kind.exit_code == 2 and "unknown fault kind" in bad_kind.output
    viewer = tmp_path / "viewer"
    viewer.write_text("token-viewer")
    refused = CliRunner().invoke(app, [*args[:4], "--token-file", str(viewer)])
    assert refused.exit_code == 2 and "responder" in refused.output
    neither = CliRunner().invoke(app, ["incident", "feedback", incident_id, "--token-file", str(token)])
    assert neither.exit_code == 2 and "--right or --wrong" in neither.output


def test_the_cli_records_feedback_in_a_local_memory_folder(tmp_path: Path) -> None:
    memory = FolderMemory(tmp_path / "memory")
    signature = IncidentSignature(namespace="shop", services=["checkout"])
    memory.remember(
        PastIncident(incident_id="inc-1", at=datetime(2026, 3, 2, tzinfo=UTC), signature=signature)
    )
    args = [
        "incident",
        "feedback",
        "inc-1",
        "--right",
        "--fixed-by",
        "rolled back",
        "--memory",
        str(memory.folder),
    ]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "the verdict was right; fixed by rolled back" in done.output
    kept = memory.get("inc-1")
    assert kept is not None and [(f.verdict, f.fixed_by) for f in kept.feedback] == [("right", "rolled back")]
    unknown = CliRunner().invoke(
        app, ["incident", "feedback", "inc-2", "--right", "--memory", str(memory.folder)]
    )
    assert unknown.exit_code == 2 and "triage it with --memory" in unknown.output
