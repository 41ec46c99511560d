"""Slack settings: read from MEDIC_SLACK_ variables, refused when unsafe or half set, and the Slack
routes mounted only when Slack is configured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from agent.assemble import AgentConfig
from server.app import create_app
from server.service_config import ServiceConfig
from server.settings import load_settings


def test_slack_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_SLACK_SIGNING_SECRET", "s3cret")
    monkeypatch.setenv("MEDIC_SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv(
        "MEDIC_SLACK_ROLES",
        json.dumps({"users": {"U1": ["approver", "sre"]}, "usergroups": {"S1": ["responder"]}}),
    )
    monkeypatch.setenv(
        "MEDIC_SLACK_CHANNELS", json.dumps([{"channel": "C1", "namespace": "shop"}, {"channel": "C2"}])
    )
    monkeypatch.setenv("MEDIC_SLACK_DEFAULT_NAMESPACE", "shop")
    slack = load_settings().service_config().slack
    assert slack is not None
    assert slack.api_url == "https://slack.com/api/" and slack.bot_token.get_secret_value() == "xoxb-1"
    assert slack.roles.users == {"U1": ["approver", "sre"]} and slack.roles.usergroups == {
        "S1": ["responder"]
    }
    assert [(c.channel, c.namespace) for c in slack.channels] == [("C1", "shop"), ("C2", None)]
    assert "s3cret" not in repr(slack)


def test_no_slack_settings_no_slack(tmp_path: Path) -> None:
    assert load_settings().service_config().slack is None
    config = ServiceConfig(state_dir=tmp_path, run_worker=False)
    with TestClient(create_app(config, AgentConfig(state_dir=tmp_path))) as client:
        assert client.post("/slack/commands", content=b"text=help").status_code == 404


@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({"MEDIC_SLACK_SIGNING_SECRET": "s"}, "go together"),
        ({"MEDIC_SLACK_BOT_TOKEN": "xoxb-1"}, "go together"),
        ({"MEDIC_SLACK_API_URL": "http://slack.example/api/"}, "https://"),
        ({"MEDIC_SLACK_CHANNELS": '[{"channel": "#ops"}]'}, "channel"),
        ({"MEDIC_SLACK_ROLES": '{"user": {"U1": ["approver"]}}'}, "user"),
    ],
)
def test_unsafe_or_half_set_slack_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], why: str
) -> None:
    if "MEDIC_SLACK_API_URL" in env or "MEDIC_SLACK_CHANNELS" in env or "MEDIC_SLACK_ROLES" in env:
        monkeypatch.setenv("MEDIC_SLACK_SIGNING_SECRET", "s")
        monkeypatch.setenv("MEDIC_SLACK_BOT_TOKEN", "xoxb-1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises((ValidationError, ValueError), match=why):
        load_settings().service_config()


def test_a_loopback_stub_may_be_spoken_to_over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "MEDIC_SLACK_SIGNING_SECRET": "s",
        "MEDIC_SLACK_BOT_TOKEN": "xoxb-1",
        "MEDIC_SLACK_API_URL": "http://127.0.0.1:8123/api",
    }.items():
        monkeypatch.setenv(name, value)
    slack = load_settings().service_config().slack
    assert slack is not None and slack.api_url == "http://127.0.0.1:8123/api/"
