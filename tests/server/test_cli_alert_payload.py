"""`medic investigate --alert FILE` with a payload it cannot use: one line naming the file and the field,
exit code 2, no traceback and no library links. Nothing is investigated, so no backend is needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.server.medic_process import medic

GOOD_ALERT = {
    "labels": {"alertname": "HighErrorRate", "service": "checkout"},
    "startsAt": "2026-03-02T13:40:00Z",
}


def _payload(**alert: object) -> str:
    return json.dumps({"version": "4", "status": "firing", "alerts": [{**GOOD_ALERT, **alert}]})


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (_payload(startsAt="yesterday"), "alerts[0].startsAt: Input should be a valid datetime"),
        (_payload(startsAt="2026-03-02T13:40:00"), "alerts[0].startsAt: Input should have timezone info"),
        (
            _payload(labels={"alertname": 5}),
            "alerts[0].labels.alertname: Input should be a valid string (got 5)",
        ),
        (
            json.dumps({"alerts": [{"labels": {"alertname": "X"}}]}),
            "alerts[0].startsAt: required field is missing",
        ),
        (json.dumps({"receiver": "medic"}), "alerts: required field is missing"),
        (json.dumps([GOOD_ALERT]), "not an Alertmanager webhook payload"),
        ('{"alerts": [', "not JSON (line 1, column 13"),
        (_payload(status="resolved"), "no firing alert in the webhook payload"),
    ],
    ids=[
        "bad-time",
        "naive-time",
        "label-type",
        "missing-field",
        "no-alerts",
        "a-list",
        "not-json",
        "resolved",
    ],
)
def test_a_bad_payload_is_one_line_naming_the_field(tmp_path: Path, content: str, said: str) -> None:
    (tmp_path / "alert.json").write_text(content)
    run = medic("investigate", "--alert", "alert.json", cwd=tmp_path, timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.startswith(f"medic: alert.json: {said}"), run.stderr
    assert run.stderr.count("\n") == 1, "one line"
    assert "pydantic" not in run.stderr and "http" not in run.stderr and "Traceback" not in run.stderr


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    run = medic("investigate", "--alert", "nowhere.json", cwd=tmp_path, timeout=60)
    assert run.returncode == 2
    assert run.stderr == "medic: nowhere.json: no such file\n"
