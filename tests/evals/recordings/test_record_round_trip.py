"""Record a triage on the sandbox, tear the sandbox down, replay the recording: the same diagnosis and
the same proposal, for each way a diagnosis reads the cluster (and for one where nothing is wrong).
Also `medic investigate --record` against a running sandbox, replayed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.assemble import AgentConfig
from agent.report import Report
from evals.durations import parse_duration
from evals.recordings.manifest import load_manifest
from evals.recordings.record_manifest import SOURCE
from evals.sandbox.sandbox import SandboxConfig, status
from evals.scenario import SCENARIO_DIR, load_scenario
from evals.triage import TriageResult, own_sandbox_name, triage
from policies.approver import Approver
from server.cli import app
from tests.sandbox_fixture import SandboxPool
from tests.server.medic_process import env_file_values

pytestmark = pytest.mark.sandbox

APPROVER = Approver(identity="sre@example.com", roles=["sre"])


# One fault kind for each thing a recording must carry back: the rollout history (a bad deploy, and a
# rollout with nothing wrong), pod restarts and events (a crash loop), node conditions (node pressure),
# usage against the pods' limits (a memory leak), callers' spans (a dependency's latency). The other
# kinds' diagnoses read the same series and objects, and each round trip takes half a minute.
ROUND_TRIP_KINDS = (
    "no fault",
    "bad_deploy",
    "crashloop",
    "node_pressure",
    "memory_leak",
    "dependency_latency",
)


def _one_scenario_per_kind() -> list[str]:
    """For each of ROUND_TRIP_KINDS, the shipped scenario with the smallest world (services × samples
    per series, then by id): the smallest worlds are the quickest to record and replay."""
    chosen: dict[str, tuple[float, str]] = {}
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        scenario = load_scenario(path)
        cause = scenario.expect.root_cause if scenario.expect else None
        kind = str(cause.kind) if cause and cause.service else "no fault"
        if kind not in ROUND_TRIP_KINDS:
            continue
        samples = parse_duration(scenario.history) / parse_duration(scenario.step)
        size = (len(scenario.topology.services) * samples, scenario.id)
        chosen[kind] = min(chosen.get(kind, size), size)
    return sorted(scenario_id for _, scenario_id in chosen.values())


def _triage(
    ref: str | Path, sandbox: SandboxConfig, out_dir: Path, record: Path | None = None
) -> TriageResult:
    return triage(
        ref,
        base=AgentConfig(),
        sandbox=sandbox,
        approve="no",
        approver=APPROVER,
        out_dir=out_dir,
        record=record,
    )


def _verdict(report: Report | dict[str, object]) -> tuple[object, ...]:
    """Every hypothesis (entity, kind, label, confidence) and the proposal (kind, target)."""
    data = report.model_dump(mode="json") if isinstance(report, Report) else report
    diagnosis, proposal = data["diagnosis"], data["proposal"]
    assert isinstance(diagnosis, dict)
    hypotheses = [
        (h["entity"], h["fault_kind"], h["label"], h["confidence"]) for h in diagnosis["hypotheses"]
    ]
    action = proposal.get("action") if isinstance(proposal, dict) else None
    return (
        diagnosis["healthy"],
        tuple(hypotheses),
        (action["kind"], action["target"]) if action else None,
    )


@pytest.mark.parametrize("scenario_id", _one_scenario_per_kind())
def test_replaying_a_recorded_triage_gives_the_same_diagnosis_and_proposal(
    scenario_id: str, tmp_path: Path, tsdb_cache: Path
) -> None:
    sandbox = SandboxConfig(state_dir=tmp_path / "sandboxes", start_timeout_s=120, tsdb_cache_dir=tsdb_cache)
    folder = tmp_path / "recording"
    live = _triage(scenario_id, sandbox, tmp_path / "live", record=folder)
    assert status(own_sandbox_name(live.case), sandbox) is None, "the recorded sandbox is down"
    assert live.recording is not None and not live.recording.problems
    assert live.recording.series and live.recording.spans  # a healthy verdict reads no object

    replayed = _triage(folder, sandbox, tmp_path / "replayed")
    assert replayed.case.kind == "recording" and replayed.case.expect == live.case.expect
    assert _verdict(replayed.report) == _verdict(live.report)
    assert replayed.report.verdict == live.report.verdict


def test_investigate_record_then_replay(
    sandbox_pool: SandboxPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario, info = sandbox_pool.get("boutique-crashloop")
    assert scenario.alert is not None
    alert = {"labels": scenario.alert.labels, "annotations": scenario.alert.annotations}
    payload = tmp_path / "alert.json"
    payload.write_text(json.dumps({"alerts": [{**alert, "startsAt": scenario.end_utc.isoformat()}]}))
    for key, value in env_file_values(info.env_file).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "recording"
    argv = [
        "investigate",
        "--alert",
        str(payload),
        "--approve",
        "no",
        "--out",
        "live",
        "--record",
        str(folder),
    ]

    result = CliRunner().invoke(app, argv, prog_name="medic")
    assert result.exit_code == 0, result.output
    assert f"recording: {folder} (" in result.output
    refused = CliRunner().invoke(app, argv, prog_name="medic")  # never merged into an existing one
    assert refused.exit_code == 2 and "not an empty folder" in refused.output

    manifest = load_manifest(folder)
    assert manifest.provenance.source == SOURCE and manifest.as_of == scenario.end_utc
    assert manifest.alert is not None and manifest.alert.labels == scenario.alert.labels
    assert manifest.namespace == scenario.topology.namespace and manifest.expect is None
    traced = {name for name, s in manifest.services.items() if s.calls}
    assert traced and "cartservice" in manifest.services  # Deployments read; calls from the spans read

    sandbox = SandboxConfig(state_dir=tmp_path / "sandboxes", start_timeout_s=120)
    replayed = _triage(folder, sandbox, tmp_path / "replayed")
    live = json.loads((tmp_path / "live" / "report.json").read_text())
    assert _verdict(replayed.report) == _verdict(live)
    top = live["diagnosis"]["hypotheses"][0]
    assert (top["entity"], top["fault_kind"]) == ("cartservice", "crashloop")
