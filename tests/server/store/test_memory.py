"""The service's memory: finished and resolved incidents keep their report (diagnosis, evidence,
proposal) and feedback, and come back as past incidents with their corrections; the feedback table
gains its new columns in place on a database made before them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import JsonValue
from sqlalchemy import Engine, create_engine, inspect, text

from agent.diagnosis import Diagnosis, Hypothesis
from agent.incident import Incident
from agent.report import build_report
from server.store.engine import database_url, open_engine
from server.store.incidents import IncidentStore
from server.store.memory import StoreMemory
from tools.context import ToolContext
from tools.memory.model import IncidentSignature
from tools.registry import default_registry

AS_OF = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
SIGNATURE = IncidentSignature(namespace="shop", services=["checkout"], fault_kind="bad_deploy")


def _engine(request: pytest.FixtureRequest, store: str, tmp_path: Path) -> Engine:
    dsn = request.getfixturevalue("fresh_postgres_dsn") if store == "postgres" else None
    return open_engine(database_url(dsn, tmp_path))


def _report(signature: IncidentSignature | None) -> dict[str, JsonValue]:
    hypothesis = {"entity": "checkout", "service": "checkout", "fault_kind": "bad_deploy",
                  "confidence": 0.75, "label": "LIKELY", "summary": "a rollout at the onset",
                  "evidence": ["k8s:rollout:checkout:1"]}  # fmt: skip
    report: dict[str, JsonValue] = {
        "verdict": "LIKELY: bad_deploy on checkout (confidence 0.75).",
        "diagnosis": {"healthy": False, "hypotheses": [hypothesis]},
        "evidence": [{"id": "k8s:rollout:checkout:1", "source": "kubernetes", "description": "rollout"}],
        "proposal": {"action": None, "escalation": None, "reason": "rollback proposed"},
    }
    if signature is not None:
        report["signature"] = signature.model_dump(mode="json")
    return report


def _finished(store: IncidentStore, incident_id: str, as_of: datetime, *, signature: bool = True) -> None:
    incident = Incident(id=incident_id, as_of=as_of, source="alert", title="checkout errors",
                        namespace="shop", services=["checkout"])  # fmt: skip
    store.open(incident, opened_by="alertmanager")
    store.set_state(incident_id, "finished", report=_report(SIGNATURE if signature else None))


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_resolved_incidents_keep_their_report_and_feedback_and_are_remembered_with_corrections(
    request: pytest.FixtureRequest, store: str, tmp_path: Path
) -> None:
    engine = _engine(request, store, tmp_path)
    incidents = IncidentStore(engine)
    _finished(incidents, "inc-1", AS_OF - timedelta(days=1))
    _finished(incidents, "inc-old-report", AS_OF - timedelta(days=2), signature=False)
    _finished(incidents, "inc-future", AS_OF + timedelta(days=1))
    incidents.add_feedback("inc-1", by="rick", verdict="wrong", true_cause="payments:memory_leak", notes="cache",
                           cause_service="payments", cause_kind="memory_leak", fixed_by="restarted payments")  # fmt: skip
    incidents.resolve_group("inc-1")

    kept = incidents.get("inc-1")
    assert kept.state == "resolved" and kept.report is not None
    assert {"diagnosis", "evidence", "proposal", "verdict"} <= set(kept.report)

    found = StoreMemory(engine).past_incidents(until=AS_OF, limit=50)
    assert [p.incident_id for p in found] == ["inc-1"]  # no signature: older report; future: not yet
    past = found[0]
    assert past.cause is not None and (past.cause.service, past.cause.kind) == ("checkout", "bad_deploy")
    correction = past.correction()
    assert correction is not None and correction.fixed_by == "restarted payments"
    assert past.true_cause() is not None and past.true_cause().kind == "memory_leak"  # type: ignore[union-attr]
    assert correction.notes == "cache" and correction.by == "rick"


def test_a_feedback_table_made_before_the_new_columns_gains_them_in_place(tmp_path: Path) -> None:
    url = database_url(None, tmp_path)
    old = create_engine(url)
    with old.begin() as conn:  # the table as the first release created it
        conn.execute(text("CREATE TABLE medic_feedback (seq INTEGER PRIMARY KEY, incident_id VARCHAR(128) "
                          "NOT NULL, at DATETIME NOT NULL, by VARCHAR(200) NOT NULL, verdict VARCHAR(16) "
                          "NOT NULL, true_cause VARCHAR(500), notes TEXT NOT NULL)"))  # fmt: skip
        conn.execute(text("INSERT INTO medic_feedback (incident_id, at, by, verdict, notes) "
                          "VALUES ('inc-0', '2026-03-01 00:00:00', 'rick', 'right', '')"))  # fmt: skip
    old.dispose()
    engine = open_engine(url)
    columns = {c["name"] for c in inspect(engine).get_columns("medic_feedback")}
    assert {"cause_service", "cause_kind", "fixed_by"} <= columns
    open_engine(url)  # a second replica starting finds nothing to add
    store = IncidentStore(engine)
    _finished(store, "inc-1", AS_OF)
    store.add_feedback(
        "inc-1", by="rick", verdict="wrong", true_cause=None, notes="", cause_service="payments"
    )
    past = StoreMemory(engine).past_incidents(until=AS_OF, limit=5)[0]
    assert past.true_cause() is not None and past.true_cause().service == "payments"  # type: ignore[union-attr]


def test_the_service_memory_answers_similar_incidents_from_a_stored_report(tmp_path: Path) -> None:
    engine = open_engine(database_url(None, tmp_path))
    store = IncidentStore(engine)
    incident = Incident(id="inc-1", as_of=AS_OF - timedelta(days=1), source="alert", title="checkout errors",
                        namespace="shop", services=["checkout"])  # fmt: skip
    hypothesis = Hypothesis(entity="checkout", service="checkout", fault_kind="bad_deploy", confidence=0.75,
                            label="LIKELY", summary="a rollout", evidence=["k8s:rollout:checkout:1"])  # fmt: skip
    state: Any = {
        "incident": incident,
        "steps": [],
        "evidence": {},
        "diagnosis": Diagnosis(hypotheses=[hypothesis]),
    }
    report = build_report(state, planner="rules")  # as the worker stores it when the incident finishes
    store.open(incident, opened_by="alertmanager")
    store.set_state("inc-1", "finished", report=report.model_dump(mode="json"))
    store.add_feedback("inc-1", by="rick", verdict="wrong", true_cause=None, notes="",
                       cause_service="payments", cause_kind="memory_leak", fixed_by="restarted payments")  # fmt: skip
    ctx = ToolContext(as_of=AS_OF, memory=StoreMemory(engine))
    args = {"services": ["checkout"], "namespace": "shop", "fault_kind": "bad_deploy"}
    result = default_registry().run("similar_incidents", args, ctx)
    assert result.status == "ok", result.summary
    [match] = result.data["matches"]  # type: ignore[misc]
    assert match["incident_id"] == "inc-1" and match["corrected"] is True  # type: ignore[index, call-overload]
    assert "corrected it to memory leak on payments, fixed by restarted payments" in result.summary
