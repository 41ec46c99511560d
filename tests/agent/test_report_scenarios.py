"""The Markdown report of every shipped scenario, triaged by the rules planner on its real sandbox, reads
as an on-call engineer expects: the alerting symptom with its numbers, evidence in units (%, ms, ×)
with sigmas only second and bounded, log excerpts for a rollout or a crash, no second hypothesis
without evidence of its own, ruled-out notes that name real dependencies, and a timeline with numbers."""

from __future__ import annotations

import re

import pytest

from tests.agent.triage_driver import shipped_triage
from tests.sandbox_fixture import SHIPPED, SandboxPool

pytestmark = pytest.mark.sandbox

IN_UNITS = re.compile(r"\d(?:[\d.]*) ?(?:%|ms|s\b|req/s)|×\d")
SIGMAS = re.compile(r"(≥ |≤ -)?[+-]?(\d+(?:\.\d+)?)σ")


def _section(md: str, heading: str) -> str:
    return md.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_the_report_of_each_shipped_scenario_gives_numbers_an_sre_reads(
    scenario_id: str, sandbox_pool: SandboxPool
) -> None:
    _, triage = shipped_triage(scenario_id, sandbox_pool)
    report, top = triage.report, triage.diagnosis.top
    md = report.to_markdown()

    # the symptom, with its numbers, in the summary
    summary = _section(md, "Summary")
    symptoms = [line for line in summary.splitlines() if line.startswith("**Symptom:** ")]
    assert symptoms, summary
    symptom = symptoms[0]
    assert re.search(r"\d", symptom), symptom
    if report.incident.services:
        assert re.search(r"5xx \d[\d.]* % \(was \d[\d.]* %", symptom), symptom
        assert re.search(r"p99 \d[\d.]* m?s", symptom), symptom

    # the evidence in units; sigmas second and never shown past their bound
    shown = [float(m.group(2)) for m in SIGMAS.finditer(md) if not m.group(1)]
    assert all(value < 100 for value in shown), [m.group(0) for m in SIGMAS.finditer(md)]
    if top is None:
        assert IN_UNITS.search(report.diagnosis.summary if report.diagnosis else ""), report.diagnosis
        return
    assert IN_UNITS.search(top.summary), top.summary
    assert "→" in _section(md, "Evidence cited"), _section(md, "Evidence cited")  # a change, from → to

    # a rollout or a crash: the log line is read, cited and quoted
    if top.fault_kind in ("bad_deploy", "crashloop"):
        assert any(e.startswith("logs:") for e in top.evidence), top.evidence
        assert 'log: "' in top.summary, top.summary
    if top.fault_kind == "bad_deploy":
        assert "release" in top.summary, top.summary

    # no filler: a second hypothesis stands on evidence beyond the ranking
    for h in triage.diagnosis.hypotheses[1:]:
        assert any(not e.startswith("anomaly:rank:") for e in h.evidence), h

    # ruled out: real dependencies only
    for note in _section(md, "Ruled out").splitlines():
        assert "None" not in note and not note.startswith(f"- {top.entity} is anomalous"), note

    # the timeline rows carry the key numbers
    timeline = [line for line in _section(md, "Timeline").splitlines() if re.match(r"\| \d+ \|", line)]
    rows = {line.split("|")[2].strip(" `"): line for line in timeline}
    assert "→" in rows["rank_root_causes"] and IN_UNITS.search(rows["rank_root_causes"]), rows
    if report.incident.services:
        assert "error ratio: " in rows["golden_signals"] and IN_UNITS.search(rows["golden_signals"]), rows
