"""`medic watch` as a user runs it: a scenario replayed through a real Prometheus prints valid JSON lines
and opens the faulty service's incident before the alert; bad input is one clear line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from evals.scenario import load_scenario
from tests.server.medic_process import ROOT, medic
from tests.server.watch.prometheus_stub import prometheus_stub

ENV = {"PYTHONPATH": str(ROOT)}  # this tree's code, whichever tree the venv was installed from


def test_an_unknown_scenario_is_one_clear_line(tmp_path: Path) -> None:
    result = medic("watch", "--scenario", "no-such-scenario", "--json", cwd=tmp_path, env=ENV)
    assert result.returncode == 1 and not result.stdout
    assert "neither a file nor a shipped scenario id" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("step", ["0", "-5", "86400"])
def test_a_bad_step_is_one_clear_line(tmp_path: Path, step: str) -> None:
    result = medic("watch", "--step", step, "--steps", "1", cwd=tmp_path, env=ENV)
    assert result.returncode == 1 and "--step" in result.stderr and "Traceback" not in result.stderr


def test_live_without_prometheus_names_the_setting(tmp_path: Path) -> None:
    result = medic("watch", "--steps", "1", cwd=tmp_path, env=ENV)
    assert result.returncode == 1 and "MEDIC_PROMETHEUS_URL" in result.stderr


def test_live_with_a_checkpoint_it_cannot_read_says_so_relearns_and_replaces_it(tmp_path: Path) -> None:
    saved = tmp_path / ".medic" / "watch" / "all.json"
    saved.parent.mkdir(parents=True)
    saved.write_text(json.dumps({"detector|shop/svc-0:request_rate": json.dumps({"format": 1})}))  # older
    with prometheus_stub(services=2) as prom:
        env = {**ENV, "MEDIC_PROMETHEUS_URL": prom.url, "MEDIC_WATCH_NAMESPACES": '["shop"]'}
        result = medic("watch", "--steps", "1", cwd=tmp_path, env=env)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "format 1" in result.stderr and "starting afresh" in result.stderr
    detectors = {
        k: json.loads(v) for k, v in json.loads(saved.read_text()).items() if k.startswith("detector|")
    }
    assert detectors and all(v["format"] != 1 for v in detectors.values())


@pytest.mark.sandbox
def test_replay_opens_the_leaking_service_before_the_alert(tmp_path: Path) -> None:
    scenario = load_scenario("sock-shop-memory-leak")
    assert scenario.alert is not None
    result = medic("watch", "--scenario", scenario.id, "--json", cwd=tmp_path, env=ENV, timeout=400)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and all(set(line) == {"opened_at", "service", "kind", "reason"} for line in lines)
    alert_at = scenario.at(scenario.alert.starts_at)
    early = [
        line
        for line in lines
        if line["service"] == "carts" and datetime.fromisoformat(line["opened_at"]) < alert_at
    ]
    assert early and early[0]["kind"] == "saturation_forecast", lines
    assert not list((tmp_path / ".medic").glob("**/state.json")), "the replay brings its sandbox down"
