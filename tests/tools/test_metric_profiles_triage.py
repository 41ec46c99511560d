"""End to end, per metric profile: a recording whose metrics are in that convention (the incident of
tests/tools/profile_fixture.py), replayed on the sandbox and triaged by the rules planner, finds the
cause, and its report names the profile and charts the cause in it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from agent.assemble import AgentConfig
from evals.sandbox.sandbox import SandboxConfig
from evals.triage import triage
from policies.approver import Approver
from tests.tools.profile_fixture import AS_OF, CALLS, FAULTY, NAMESPACE, PROFILE_NAMES, RATES, write_incident

pytestmark = pytest.mark.sandbox


def write_recording(folder: Path, profile: str) -> Path:
    """The incident as a recording: its metrics only, and an alert that names no service."""
    (folder / "metrics").mkdir(parents=True)
    write_incident(profile, folder / "metrics" / "incident.om")
    manifest = {
        "id": f"shop-{profile}",
        "title": f"shop errors, metrics in the {profile} convention",
        "as_of": AS_OF.isoformat(),
        "namespace": NAMESPACE,
        "services": {service: {"calls": list(CALLS.get(service, ()))} for service in RATES},
        "alert": {
            "labels": {"alertname": "ShopHighErrorRate", "namespace": NAMESPACE},
            "starts_at": (AS_OF - timedelta(minutes=5)).isoformat(),
        },
        "expect": {"root_cause": {"service": FAULTY}},
        "provenance": {"source": "written by a test"},
    }
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return folder


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_a_triage_on_a_recording_in_each_convention_finds_the_cause(profile: str, tmp_path: Path) -> None:
    folder = write_recording(tmp_path / "recording", profile)
    sandbox = SandboxConfig(state_dir=tmp_path / "sandboxes", start_timeout_s=120)
    approver = Approver(identity="sre@example.com", roles=["sre"])

    result = triage(
        folder, base=AgentConfig(), sandbox=sandbox, approve="no", approver=approver, out_dir=tmp_path / "out"
    )

    report = result.report
    assert report.diagnosis is not None and report.diagnosis.top is not None, report.verdict
    assert report.diagnosis.top.service == FAULTY, report.verdict
    assert report.metric_profile is not None
    assert (report.metric_profile.name, report.metric_profile.how) == (profile, "detected")
    assert f"- Metric profile {profile} (" in (tmp_path / "out" / "report.md").read_text()
    # the chart queries in the same convention: the cause's error ratio is drawn, not "no data"
    assert "error_ratio" in report.chart.signals, report.chart.note
