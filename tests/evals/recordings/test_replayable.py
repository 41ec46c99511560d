"""Scenarios and recordings behind one interface: the incident a triage investigates comes from the
alert (or question) and as_of of either, the same way."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from evals.replayable import load_replayable
from evals.scenario import load_scenario
from evals.triage import incident_of, scenario_incident
from tests.evals.recordings.minimal import AS_OF, NAMESPACE, write_recording


def test_a_recordings_alert_is_investigated_as_of_the_manifest(tmp_path: Path) -> None:
    case = load_replayable(write_recording(tmp_path / "rec"))

    incident = incident_of(case)

    assert (incident.source, incident.as_of, incident.namespace) == ("alert", AS_OF, NAMESPACE)
    assert incident.labels["alertname"] == "ShopHighErrorRate"
    assert re.fullmatch(r"inc-[0-9a-f]{16}", incident.id), "opaque: the case id must not reach a planner"
    assert (case.kind, case.services, case.expect is not None) == ("recording", ("web", "cart", "pay"), True)


def test_a_recording_may_ask_a_question_and_an_alert_without_namespace_gets_the_manifests(
    tmp_path: Path,
) -> None:
    folder = write_recording(tmp_path / "rec")
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text())
    manifest["alert"]["labels"].pop("namespace")
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    assert incident_of(load_replayable(folder)).namespace == NAMESPACE

    del manifest["alert"]
    manifest["question"] = "why is cart failing?"
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    incident = incident_of(load_replayable(folder))
    assert (incident.source, incident.services, incident.as_of) == ("question", ["cart"], AS_OF)


def test_a_scenarios_incident_is_what_it_always_was() -> None:
    scenario = load_scenario("checkout-bad-deploy")
    assert scenario.alert is not None
    incident = scenario_incident(scenario)
    assert incident.as_of == scenario.end_utc
    assert incident.labels == scenario.alert.labels
    assert re.fullmatch(r"inc-[0-9a-f]{16}", incident.id), "opaque: the scenario id must not reach a planner"
    case = load_replayable("checkout-bad-deploy")
    assert case.alert is not None and case.alert.startsAt == scenario.at(scenario.alert.starts_at)
    assert incident_of(case, incident.id) == incident
    assert incident_of(case).id != incident.id, "each triage is an investigation of its own"
