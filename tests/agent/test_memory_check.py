"""Past incidents weighed against today's diagnosis: cited where today's evidence supports them, ruled
out where it does not, a responder's correction surfaced first; nothing changes without the memory
call. The report cites them in a short section."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.diagnosis import Diagnosis, Hypothesis
from agent.incident import Incident
from agent.planners.memory_check import weigh_memory
from agent.report import build_report
from agent.state import Budget, PlannerView, Step, ToolCall, Usage
from tools.contract import Evidence

AS_OF = datetime(2026, 3, 2, 14, tzinfo=UTC)
INCIDENT = Incident(id="inc-now", as_of=AS_OF, source="alert", title="checkout errors", namespace="shop",
                    services=["frontend"])  # fmt: skip
DEPLOY = Hypothesis(entity="checkout", service="checkout", fault_kind="bad_deploy", confidence=0.75,
                    label="LIKELY", summary="a rollout at the onset",
                    evidence=["k8s:rollout:checkout:1", "anomaly:rank:checkout:1"])  # fmt: skip
ONLY_RANKED = Hypothesis(entity="payments", service="payments", fault_kind="memory_leak", confidence=0.3,
                         label="INCONCLUSIVE", summary="ranked", evidence=["anomaly:rank:payments:1"])  # fmt: skip


def _match(
    incident_id: str, cause: dict[str, Any], true_cause: dict[str, Any], corrected: bool
) -> dict[str, Any]:
    return {"incident_id": incident_id, "at": "2026-03-01T10:00:00+00:00", "similarity": 0.9,
            "cause": cause, "true_cause": true_cause, "corrected": corrected,
            "fixed_by": "restarted payments" if corrected else "", "line": f"{incident_id}: …"}  # fmt: skip


def _view(matches: list[dict[str, Any]]) -> PlannerView:
    ids = [f"memory:similar:{m['incident_id']}:0" for m in matches]
    step = Step(call=ToolCall(id="r3-0-similar_incidents", tool="similar_incidents"), status="ok",
                summary="…", data={"matches": matches}, evidence=ids)  # fmt: skip
    evidence = {i: Evidence(id=i, source="memory", description="past") for i in ids}
    evidence |= {e: Evidence(id=e, source="kubernetes", description="x") for e in DEPLOY.evidence}
    return PlannerView(incident=INCIDENT, steps=[step], evidence=evidence, usage=Usage(), budget=Budget())


def test_a_past_cause_todays_evidence_supports_is_cited_with_confidence_unchanged() -> None:
    view = _view([_match("inc-1", {"service": "checkout", "kind": "bad_deploy"},
                         {"service": "checkout", "kind": "bad_deploy"}, corrected=False)])  # fmt: skip
    weighed = weigh_memory(Diagnosis(hypotheses=[DEPLOY]), view)
    top = weighed.hypotheses[0]
    assert "memory:similar:inc-1:0" in top.evidence and top.confidence == DEPLOY.confidence
    assert weighed.recalled == [
        "inc-1: its cause, bad deploy on checkout, is supported by today's evidence too"
    ]


def test_a_correction_is_surfaced_first_and_an_unsupported_cause_is_ruled_out() -> None:
    view = _view([_match("inc-1", {"service": "checkout", "kind": "bad_deploy"},
                         {"service": "payments", "kind": "memory_leak"}, corrected=True)])  # fmt: skip
    # today's payments hypothesis stands on the ranking alone: the past does not make it stand
    weighed = weigh_memory(Diagnosis(hypotheses=[DEPLOY, ONLY_RANKED]), view)
    assert weighed.recalled[0] == (
        "last time this looked like bad deploy on checkout (inc-1, 2026-03-01 10:00 UTC), a responder "
        "corrected it: it was memory leak on payments, fixed by restarted payments"
    )
    assert any("inc-1's cause, memory leak on payments: not supported today" in c for c in weighed.checked)
    assert weighed.hypotheses == [DEPLOY, ONLY_RANKED]  # nothing cited, nothing raised


def test_without_the_memory_call_the_diagnosis_is_untouched() -> None:
    view = PlannerView(incident=INCIDENT, steps=[], evidence={}, usage=Usage(), budget=Budget())
    diagnosis = Diagnosis(hypotheses=[DEPLOY])
    assert weigh_memory(diagnosis, view) is diagnosis


def test_the_report_cites_similar_incidents_and_keeps_the_signature() -> None:
    view = _view([_match("inc-1", {"service": "checkout", "kind": "bad_deploy"},
                         {"service": "payments", "kind": "memory_leak"}, corrected=True)])  # fmt: skip
    diagnosis = weigh_memory(Diagnosis(hypotheses=[DEPLOY]), view)
    state: Any = {
        "incident": INCIDENT,
        "steps": view.steps,
        "evidence": view.evidence,
        "diagnosis": diagnosis,
    }
    report = build_report(state, planner="rules")
    assert [s.incident_id for s in report.similar] == ["inc-1"]
    assert report.signature is not None and report.signature.fault_kind == "bad_deploy"
    assert "checkout" in report.signature.services and "frontend" in report.signature.services
    markdown = report.to_markdown()
    section = markdown.split("## Similar past incidents", 1)[1].split("## Timeline", 1)[0]
    assert "a responder corrected it: it was memory leak on payments" in section
    assert "memory:similar:inc-1:0" in section
    plain: Any = {
        "incident": INCIDENT,
        "steps": [],
        "evidence": {},
        "diagnosis": Diagnosis(hypotheses=[DEPLOY]),
    }
    assert "Similar past incidents" not in build_report(plain, planner="rules").to_markdown()
