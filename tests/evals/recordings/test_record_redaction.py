"""Secrets leave a recording as the tools redact them: what a replay's tools show is what the live
tools showed, no secret is written, and a revision that changed only a secret still shows changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from kubernetes import client as k8s

from evals.recordings.record_kube_files import LAST_APPLIED, Redactor, log_lines
from tools.kube import convert
from tools.redact import MASK

SECRET, OTHER = "hunter2-prod-db", "correct-horse-battery"


def _deployment(password: str) -> dict[str, Any]:
    env = [
        {"name": "DB_PASSWORD", "value": password},
        {"name": "DATABASE_URL", "value": f"postgres://app:{password}@db:5432/shop"},
        {"name": "UPSTREAM_HEADERS", "value": f"Authorization: Bearer {password}-0123456789"},
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
    ]
    container = {"name": "cart", "image": "cart:1.2", "env": env, "args": [f"--password={password}"]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "cart",
            "namespace": "shop",
            "annotations": {LAST_APPLIED: json.dumps({"spec": {"env": env}}), "team": "carts"},
            "managedFields": [{"manager": "kubectl"}],
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "cart"}},
            "template": {
                "metadata": {"labels": {"app": "cart"}},
                "spec": {"containers": [container], "initContainers": [dict(container, name="migrate")]},
            },
        },
    }


def _view(obj: dict[str, Any]) -> list[Any]:
    """The containers as the kube tools show them (the official client's model, then convert)."""
    model = k8s.ApiClient().deserialize(json.dumps(obj), "V1Deployment", "application/json")
    return convert.deployment(model).containers


def test_env_shown_as_live_and_no_secret_written() -> None:
    redactor = Redactor()
    original = _deployment(SECRET)
    recorded = redactor.object(original)
    assert SECRET not in json.dumps(recorded)
    assert original["metadata"]["annotations"][LAST_APPLIED]  # the input is left as it was
    meta = recorded["metadata"]
    assert LAST_APPLIED not in meta["annotations"] and meta["annotations"]["team"] == "carts"
    assert "managedFields" not in meta

    live, replayed = _view(original)[0], _view(recorded)[0]
    assert replayed.env == live.env  # same text in every report and summary
    assert live.env["DB_PASSWORD"] == MASK and live.env["API_TOKEN"] == "<from secretkey api>"
    assert replayed.env["DATABASE_URL"] == f"postgres://app:{MASK}@db:5432/shop"
    assert replayed.env["UPSTREAM_HEADERS"] == f"Authorization: Bearer {MASK}"
    # Digests survive where the tools' rules redact the tag again; a bearer token's alphabet has no
    # brackets, so that one is written as shown and its digest is lost (the module docstring says so).
    assert live.env_digests.keys() == {"DB_PASSWORD", "DATABASE_URL", "UPSTREAM_HEADERS"}
    assert replayed.env_digests.keys() == {"DB_PASSWORD", "DATABASE_URL"}
    assert recorded["spec"]["template"]["spec"]["initContainers"][0]["env"][0]["value"].startswith(
        "[REDACTED:"
    )


def test_a_revision_that_changed_only_a_secret_still_shows_changed() -> None:
    redactor = Redactor()
    first, again, changed = (redactor.object(_deployment(p)) for p in (SECRET, SECRET, OTHER))
    for name in ("DB_PASSWORD", "DATABASE_URL"):
        digests = [_view(o)[0].env_digests[name] for o in (first, again, changed)]
        assert digests[0] == digests[1] != digests[2], name
    digests = [_view(o)[0].env_digests["DB_PASSWORD"] for o in (first, again, changed)]
    other_recording = Redactor().object(_deployment(SECRET))  # tags are keyed per recording
    assert _view(other_recording)[0].env_digests["DB_PASSWORD"] != digests[0]


def test_pod_env_event_message_and_args_are_redacted() -> None:
    redactor = Redactor()
    pod = {
        "kind": "Pod",
        "metadata": {"name": "cart-1"},
        "spec": {"containers": [{"name": "c", "env": [{"name": "SECRET_KEY", "value": "abc"}], "command": ["run", "--token=zzzzzz"]}]},
    }  # fmt: skip
    container = redactor.object(pod)["spec"]["containers"][0]
    assert container["env"][0]["value"].startswith("[REDACTED:") and "abc" not in json.dumps(container)
    assert container["command"] == ["run", f"--token={MASK}"]
    event = {"kind": "Event", "metadata": {"name": "e"}, "message": "pull failed: Bearer abcdefghijklmnop"}
    assert redactor.object(event)["message"] == f"pull failed: Bearer {MASK}"


def test_log_lines_as_the_pod_logs_tool_keeps_them() -> None:
    as_of = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    text = (
        "2026-03-02T13:59:58.100000000Z ERROR login failed password=swordfish\n"
        "a continuation line without a timestamp\n"
        "2026-03-02T14:00:00Z at as_of: kept\n"
        "2026-03-02T14:00:00.001Z after as_of: dropped\n"
    )
    assert log_lines(text, as_of) == [
        f"2026-03-02T13:59:58.100000000Z ERROR login failed password={MASK}",
        "a continuation line without a timestamp",
        "2026-03-02T14:00:00Z at as_of: kept",
    ]
