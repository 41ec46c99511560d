"""The memory of past incidents, end to end on shipped scenarios (issue 15 "Must show"): a scenario
replayed after a responder corrected its earlier investigation cites that incident and its
correction, and keeps today's verdict; an incident of another topology cites nothing."""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from pathlib import Path

import pytest

from agent.planners import RulesPlanner
from agent.planners.memory_signature import past_incident
from tests.agent.triage_driver import Triage, run_triage, scenario_incident, shipped_triage
from tests.sandbox_fixture import SandboxPool, tool_context
from tools.memory.local import FolderMemory
from tools.memory.model import Cause, PastFeedback

pytestmark = pytest.mark.sandbox


def _recalling(pool: SandboxPool, scenario_id: str, memory: FolderMemory, incident_id: str) -> Triage:
    scenario, info = pool.get(scenario_id)
    incident = scenario_incident(scenario).model_copy(update={"id": incident_id})
    with ExitStack() as stack:
        ctx = dataclasses.replace(tool_context(info, scenario.end_utc, stack), memory=memory)
        return run_triage(RulesPlanner(recall=True), incident, ctx)


def test_a_replay_after_a_correction_cites_it_and_an_unrelated_incident_cites_nothing(
    sandbox_pool: SandboxPool, tmp_path: Path
) -> None:
    memory = FolderMemory(tmp_path / "memory")
    _, plain = shipped_triage("checkout-bad-deploy", sandbox_pool)  # no memory: the default
    first = _recalling(sandbox_pool, "checkout-bad-deploy", memory, "bad-deploy-monday")
    assert first.report.similar == [] and first.diagnosis.recalled == []  # an empty memory
    assert first.report.verdict == plain.report.verdict
    assert first.report.signature is not None and first.report.signature.changes  # the rollout

    remembered = past_incident(
        first.view.incident, first.report.verdict, first.diagnosis, first.report.signature
    )
    memory.remember(remembered)
    top = first.diagnosis.top
    assert top is not None and top.service is not None
    elsewhere = Cause(service="paymentservice", kind="dependency_latency")  # not what today's evidence says
    correction = PastFeedback(verdict="wrong", cause=elsewhere, fixed_by="failed over the payments database",
                              by="rick", at=first.view.incident.as_of)  # fmt: skip
    memory.add_feedback("bad-deploy-monday", correction)

    again = _recalling(sandbox_pool, "checkout-bad-deploy", memory, "bad-deploy-tuesday")
    assert [s.incident_id for s in again.report.similar] == ["bad-deploy-monday"]
    assert again.report.similar[0].similarity == 1.0
    assert again.report.verdict == plain.report.verdict  # a hypothesis to verify, never the answer
    recalled = again.diagnosis.recalled
    assert recalled[0].startswith(
        f"last time this looked like bad deploy on {top.service} (bad-deploy-monday"
    )
    assert (
        "it was dependency latency on paymentservice, fixed by failed over the payments database"
        in recalled[0]
    )
    assert any("not supported today, ruled out" in c for c in again.diagnosis.checked)
    markdown = again.report.to_markdown()
    assert "## Similar past incidents" in markdown and "bad-deploy-monday" in markdown
    assert "a responder corrected it to dependency latency on paymentservice" in markdown

    unrelated = _recalling(sandbox_pool, "sock-shop-memory-leak", memory, "leak-wednesday")
    assert any(s.call.tool == "similar_incidents" for s in unrelated.view.steps)  # asked, and
    assert unrelated.report.similar == [] and unrelated.diagnosis.recalled == []  # nothing cited
    assert "Similar past incidents" not in unrelated.report.to_markdown()
