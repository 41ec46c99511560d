"""Prometheus dies, before or during an investigation: the agent carries on with Kubernetes, traces and
logs, the report says which evidence is missing and why, confidence is capped, and `medic investigate`
and `medic triage` exit with the degraded status (3). Each test brings up a sandbox of its own (the
shared pool's must stay whole) and stops its Prometheus by the pid the sandbox recorded."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from agent.assemble import AgentConfig
from agent.diagnosis import DEGRADED_CONFIDENCE_CAP
from agent.report import Report
from evals.sandbox import processes
from evals.sandbox.sandbox import RunState, SandboxConfig, down, up
from evals.scenario import load_scenario
from evals.triage import scenario_incident, triage
from policies.approver import Approver
from server.cli_triage import EXIT_DEGRADED, exit_status
from tests.server.medic_process import MEDIC, env_file_values, medic

SCENARIO = "boutique-crashloop"  # its cause shows in Kubernetes: a run without metrics still finds it
KUBE_TOOLS = {"kube_pods", "kube_events", "kube_nodes", "kube_workload"}


def _running_state(state_dir: Path) -> RunState | None:
    """The state of the one sandbox under `state_dir` once it is up (its info is written last)."""
    for path in state_dir.rglob("state.json"):
        try:
            state = RunState.model_validate_json(path.read_text())
        except ValueError:  # being rewritten
            continue
        if state.info is not None:
            return state
    return None


def _kill_prometheus(state_dir: Path) -> None:
    state = _running_state(state_dir)
    assert state is not None, f"no sandbox is up under {state_dir}"
    [record] = [p for p in state.processes if p.name == "prometheus"]
    assert processes.stop(record), "Prometheus was running until now"


def _check_degraded(report: dict[str, object] | Report, prometheus_url: str | None = None) -> None:
    data = report.model_dump(mode="json") if isinstance(report, Report) else report
    diagnosis = data["diagnosis"]
    assert isinstance(diagnosis, dict) and diagnosis["degraded"] is True
    [missing] = [m for m in diagnosis["missing"] if m["source"] == "metrics"]
    assert "MEDIC_PROMETHEUS_URL" in missing["why"] and "Prometheus at http://127.0.0.1:" in missing["why"]
    if prometheus_url:
        assert prometheus_url in missing["why"]
    timeline = data["timeline"]
    assert isinstance(timeline, list)
    kube_ok = {t["tool"] for t in timeline if t["tool"] in KUBE_TOOLS and t["status"] in ("ok", "no_data")}
    assert len(kube_ok) >= 3, f"it carried on with Kubernetes: {kube_ok}"
    hypotheses = diagnosis["hypotheses"]
    assert hypotheses, "Kubernetes shows the crash loop without metrics"
    assert all(h["confidence"] <= DEGRADED_CONFIDENCE_CAP and h["label"] != "CONFIRMED" for h in hypotheses)
    assert (hypotheses[0]["service"], hypotheses[0]["fault_kind"]) == ("cartservice", "crashloop")


@pytest.mark.sandbox
def test_prometheus_down_before_investigate(tmp_path: Path, tsdb_cache: Path) -> None:
    scenario = load_scenario(SCENARIO)
    config = SandboxConfig(state_dir=tmp_path / "sandboxes", start_timeout_s=90, tsdb_cache_dir=tsdb_cache)
    info = up(scenario, config)
    try:
        _kill_prometheus(config.state_dir)
        assert scenario.alert is not None
        alert = {
            "labels": scenario.alert.labels,
            "annotations": scenario.alert.annotations,
            "startsAt": scenario_incident(scenario).as_of.isoformat(),
        }
        payload = tmp_path / "alert.json"
        payload.write_text(json.dumps({"version": "4", "status": "firing", "alerts": [alert]}))
        env = env_file_values(info.env_file)
        run = medic(
            "investigate", "--alert", str(payload), "--approve", "no", "--out", str(tmp_path / "r"),
            cwd=tmp_path, env=env,
        )  # fmt: skip
    finally:
        down(scenario.id, config)
    assert run.returncode == EXIT_DEGRADED, run.stdout + run.stderr
    assert "degraded" in run.stdout and "missing metrics: Prometheus at" in run.stdout
    assert "MEDIC_PROMETHEUS_URL" in run.stdout and "Traceback" not in run.stderr
    _check_degraded(json.loads((tmp_path / "r" / "report.json").read_text()), info.prometheus_url)
    markdown = (tmp_path / "r" / "report.md").read_text()
    summary = markdown.split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert "**Degraded:**" in summary and "- metrics: Prometheus at" in summary
    assert "MEDIC_PROMETHEUS_URL" in summary


@pytest.mark.sandbox
def test_prometheus_killed_mid_run(tmp_path: Path, tsdb_cache: Path) -> None:
    """Killed once the first round has run: the ranking stood, later metrics calls fail."""
    config = SandboxConfig(state_dir=tmp_path / "sandboxes", start_timeout_s=90, tsdb_cache_dir=tsdb_cache)
    killed: list[str] = []

    def on_event(event: dict[str, object]) -> None:
        # Events are handed over between graph steps: round 2's tools start only after this returns.
        if event.get("event") == "plan" and str(event.get("note", "")).startswith("round 2") and not killed:
            _kill_prometheus(config.state_dir)
            killed.append("prometheus")

    result = triage(
        SCENARIO,
        base=AgentConfig(),
        sandbox=config,
        approve="no",
        approver=Approver(identity="test"),
        out_dir=tmp_path / "r",
        on_event=on_event,
    )
    assert killed, "the investigation reached its second round"
    report = result.report
    _check_degraded(report)
    assert exit_status(report) == EXIT_DEGRADED
    first_round = [t for t in report.timeline if t.call_id.startswith("r1-")]
    assert first_round and all(t.status != "error" for t in first_round), "metrics answered before"


@pytest.mark.sandbox
def test_medic_triage_exits_degraded_when_prometheus_dies(tmp_path: Path) -> None:
    """`medic triage` brings its own sandbox up; its Prometheus is stopped the moment it is ready, so
    the investigation (seconds long) runs without metrics from its first round or soon after."""
    state_dir = tmp_path / ".medic" / "sandbox"
    args = ["triage", "--scenario", SCENARIO, "--approve", "no", "--json", "--out", str(tmp_path / "r")]
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    with subprocess.Popen(
        [MEDIC, *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        deadline = time.monotonic() + 180
        while _running_state(state_dir) is None:
            assert child.poll() is None and time.monotonic() < deadline, "the sandbox never came up"
            time.sleep(0.005)
        _kill_prometheus(state_dir)
        stdout, stderr = child.communicate(timeout=240)
    assert child.returncode == EXIT_DEGRADED, stderr
    _check_degraded(json.loads(stdout))
