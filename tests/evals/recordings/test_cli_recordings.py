"""`medic triage --scenario DIR`, `medic eval --scenarios DIR` and `medic sandbox up DIR` with recordings,
as a user runs them: a real process, the real sandbox, real exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from evals.scenario import SCENARIO_DIR
from tests.evals.recordings.minimal import CAUSE, NAMESPACE, write_recording
from tests.server.medic_process import ROOT, medic

# This checkout's code, whichever medic the virtual environment was installed from.
ENV = {"PYTHONPATH": str(ROOT)}


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return medic(*args, cwd=cwd, env=ENV)


@pytest.mark.sandbox
def test_triage_on_a_recording_finds_the_service_whose_errors_jumped(tmp_path: Path) -> None:
    folder = write_recording(tmp_path / "rec")

    result = _run("triage", "--scenario", str(folder), "--approve", "no", "--json", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    top = report["diagnosis"]["hypotheses"][0]
    assert (top["service"], top["fault_kind"]) == (CAUSE, "bad_deploy")
    assert any(e.startswith("logs:pod_logs:") for e in top["evidence"]), "the recorded pod log was read"
    assert report["proposal"]["action"]["target"] == f"{NAMESPACE}/deployment/{CAUSE}"
    assert report["proposal"]["action"]["kind"] == "rollback"
    assert report["incident"]["as_of"].startswith("2026-03-02T13:40:00")
    assert not list((tmp_path / ".medic" / "sandbox").glob("*/state.json")), "triage brings its sandbox down"


@pytest.mark.sandbox
def test_eval_scores_a_scenario_and_a_recording_side_by_side(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    shutil.copy(SCENARIO_DIR / "ledger-crashloop.yaml", suite)
    write_recording(suite / "shop-cart-bad-deploy")
    write_recording(suite / "unlabelled", id="shop-unlabelled", expect=False)
    out = tmp_path / "eval" / "report.json"

    result = _run("eval", "--scenarios", str(suite), "--out", str(out), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(out.read_text())
    cases = {c["id"]: c for c in report["scenarios"]}
    assert sorted(cases) == ["ledger-crashloop", "shop-cart-bad-deploy", "shop-unlabelled"]
    recording, scenario, unlabelled = (
        cases["shop-cart-bad-deploy"],
        cases["ledger-crashloop"],
        cases["shop-unlabelled"],
    )
    assert recording["scored"] and recording["correct_at_1"] and recording["remediation_correct"]
    assert scenario["scored"] and scenario["error"] is None and scenario["correct_at_1"]
    assert not unlabelled["scored"] and unlabelled["predicted"][0]["service"] == CAUSE, "run and reported"
    summary = report["summary"]
    assert (summary["n"], summary["unscored"], summary["failed"], summary["ac_at_1"]) == (3, 1, 0, 1.0)
    assert (
        "| shop-unlabelled | recorded | bad_deploy on cart | — | — | — | — |"
        in out.with_suffix(".md").read_text()
    )


def test_eval_refuses_a_folder_that_is_not_a_recording_before_running_anything(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    write_recording(suite / "good")
    (suite / "half-copied" / "metrics").mkdir(parents=True)

    result = _run("eval", "--scenarios", str(suite), cwd=tmp_path)

    assert result.returncode == 2
    assert f"{suite / 'half-copied'}: no manifest.yaml" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".medic" / "sandbox").exists(), "nothing was brought up"


@pytest.mark.sandbox
def test_sandbox_up_of_a_malformed_recording_is_one_line_and_leaves_nothing_running(tmp_path: Path) -> None:
    folder = write_recording(tmp_path / "rec")
    metrics = folder / "metrics" / "http.om"
    metrics.write_text(metrics.read_text().replace("# EOF\n", "web_up{pod=web} 1 1772458000\n# EOF\n"))
    line = metrics.read_text().count("\n") - 1

    result = _run("sandbox", "up", str(folder), cwd=tmp_path)

    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{metrics}:{line}: not an OpenMetrics sample line" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    state = tmp_path / ".medic" / "sandbox" / "shop-cart-bad-deploy" / "state.json"
    assert json.loads(state.read_text())["processes"] == [], "the emulator it had started was stopped"
