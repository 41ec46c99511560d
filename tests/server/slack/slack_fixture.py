"""The service with its Slack app, a loopback Slack stub, and requests signed the way Slack signs them.

Signatures are computed here from Slack's documented v0 scheme (HMAC-SHA256 of `v0:<ts>:<body>` with
the signing secret), independently of the server's verifier.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from agent.assemble import AgentConfig
from server.app import create_app
from server.bench.slack_stub import SlackStub
from server.service_config import ServiceConfig
from server.slack.config import ChannelRoute, SlackConfig, SlackRoles
from tests.server.service_fixture import grants

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"
CHANNEL = "COPS"
ROLES = SlackRoles(
    users={
        "URICK": ["responder"],
        "UCAROL": ["approver", "sre"],
        "UDAN": ["approver", "sre"],
        "UVERA": ["viewer"],
    },
    usergroups={"SONCALL": ["approver", "sre"]},
)


def slack_config(stub: SlackStub, **changes: object) -> SlackConfig:
    values: dict[str, object] = {
        "signing_secret": SECRET,
        "bot_token": TOKEN,
        "api_url": stub.api_url,
        "bot_user_id": "UMEDIC",
        "roles": ROLES,
        "channels": [ChannelRoute(channel="CALERTS", namespace="boutique")],
        "default_namespace": "shop",
        "sync_interval_s": 0.1,
        "timeout_s": 2,
        **changes,
    }
    return SlackConfig.model_validate(values)


def sign(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def command_body(
    stub: SlackStub, text: str, user: str = "URICK", channel: str = CHANNEL, n: int = 0
) -> bytes:
    return urlencode(
        {
            "token": "unused",
            "team_id": "T0001",
            "team_domain": "example",
            "channel_id": channel,
            "channel_name": "ops",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/medic",
            "text": text,
            "response_url": stub.response_url(f"command-{user}-{n}"),
            "trigger_id": f"trigger-{n}",
            "api_app_id": "A0001",
        }
    ).encode()


def press_body(
    stub: SlackStub,
    user: str,
    incident_id: str,
    action_id: str,
    verdict: str = "approve",
    ts: str = "1.0",
    n: int = 0,
) -> bytes:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": user, "team_id": "T0001"},
        "api_app_id": "A0001",
        "channel": {"id": CHANNEL},
        "message": {"ts": ts, "type": "message"},
        "response_url": stub.response_url(f"press-{user}-{n}"),
        "trigger_id": f"press-{n}",
        "actions": [
            {
                "type": "button",
                "action_id": "medic_approve" if verdict == "approve" else "medic_refuse",
                "block_id": f"approval:{action_id}",
                "value": json.dumps({"incident": incident_id, "action": action_id}),
                "action_ts": str(time.time()),
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def event_body(event: dict[str, object], n: int = 0) -> bytes:
    return json.dumps(
        {
            "token": "unused",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": f"Ev{n:08d}",
            "event_time": int(time.time()),
            "event": event,
        }
    ).encode()


def post(client: TestClient, path: str, body: bytes, json_body: bool = False) -> Response:
    kind = {"Content-Type": "application/json"} if json_body else FORM
    return client.post(path, content=body, headers={**kind, **sign(body)})


@pytest.fixture
def slack_stub() -> Iterator[SlackStub]:
    stub = SlackStub(token=TOKEN, usergroups={"SONCALL": ["UGRACE"]}).start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def slack_app(tmp_path: Path, slack_stub: SlackStub) -> Iterator[TestClient]:
    """The service with Slack and no worker: incidents stay where a test puts them."""
    config = ServiceConfig(
        api_tokens=grants(), state_dir=tmp_path, run_worker=False, slack=slack_config(slack_stub)
    )
    with TestClient(create_app(config, AgentConfig(state_dir=tmp_path))) as client:
        yield client
