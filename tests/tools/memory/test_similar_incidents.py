"""`similar_incidents` through the registry, on a local memory folder: corrections first, no future,
no memory configured is said (not an error), bad arguments say what to fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tools.context import ToolContext
from tools.errors import BackendError
from tools.memory.local import FolderMemory
from tools.memory.model import Cause, IncidentSignature, PastFeedback, PastIncident
from tools.registry import default_registry

REGISTRY = default_registry()
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
SIGNATURE = IncidentSignature(
    namespace="shop",
    services=["checkout"],
    symptoms=["checkout:errors:up"],
    fault_kind="bad_deploy",
    changes=["rollout:checkout"],
)
ARGS = {
    "services": ["checkout"],
    "namespace": "shop",
    "symptoms": ["checkout:errors:up"],
    "fault_kind": "bad_deploy",
    "changes": ["rollout:checkout"],
}


def _past(incident_id: str, at: datetime, **kw: object) -> PastIncident:
    return PastIncident.model_validate(
        {
            "incident_id": incident_id,
            "title": "checkout errors",
            "at": at,
            "signature": SIGNATURE,
            "verdict": "LIKELY: bad_deploy on checkout (confidence 0.75).",
            "cause": Cause(service="checkout", kind="bad_deploy"),
            **kw,
        }
    )


def _memory(tmp_path: Path) -> FolderMemory:
    memory = FolderMemory(tmp_path / "memory")
    memory.remember(_past("inc-old", NOW - timedelta(days=3)))
    memory.remember(_past("inc-later", NOW + timedelta(hours=1)))  # after as_of: a replay never sees it
    memory.remember(_past("inc-corrected", NOW - timedelta(days=1)))
    memory.add_feedback(
        "inc-corrected",
        PastFeedback(
            verdict="wrong",
            cause=Cause(service="payments", kind="memory_leak"),
            fixed_by="restarted payments",
            by="rick",
            at=NOW - timedelta(hours=20),
        ),
    )
    return memory


def test_without_a_memory_the_tool_says_so_and_is_not_an_error() -> None:
    result = REGISTRY.run("similar_incidents", ARGS, ToolContext(as_of=NOW))
    assert result.status == "no_data"
    assert "memory is not configured" in result.summary


def test_past_incidents_come_with_the_correction_first_and_never_from_the_future(tmp_path: Path) -> None:
    ctx = ToolContext(as_of=NOW, memory=_memory(tmp_path))
    result = REGISTRY.run("similar_incidents", ARGS, ctx)
    assert result.status == "ok"
    matches = result.data["matches"]
    assert isinstance(matches, list)
    ids = [m["incident_id"] for m in matches if isinstance(m, dict)]
    assert ids == ["inc-corrected", "inc-old"]  # equally similar: the newest first; inc-later not yet
    corrected = matches[0]
    assert isinstance(corrected, dict) and corrected["corrected"] is True
    assert corrected["true_cause"] == {"service": "payments", "kind": "memory_leak"}
    line = str(corrected["line"])
    assert line.index("corrected it to memory leak on payments") < len(line)
    assert "fixed by restarted payments" in line
    assert [e.source for e in result.evidence] == ["memory", "memory"]
    assert result.evidence[0].id != result.evidence[1].id
    again = REGISTRY.run("similar_incidents", ARGS, ctx)
    assert [e.id for e in again.evidence] == [e.id for e in result.evidence]  # citeable in a replay


def test_its_own_incident_and_other_services_are_not_recalled(tmp_path: Path) -> None:
    ctx = ToolContext(as_of=NOW, memory=_memory(tmp_path))
    own = REGISTRY.run("similar_incidents", {**ARGS, "exclude_incident": "inc-corrected"}, ctx)
    assert [m["incident_id"] for m in own.data["matches"]] == ["inc-old"]  # type: ignore[index, union-attr]
    other = REGISTRY.run("similar_incidents", {"services": ["orders"], "namespace": "shop"}, ctx)
    assert other.status == "ok" and other.data["matches"] == [] and not other.evidence
    assert other.summary == "no similar past incident"


def test_bad_arguments_say_what_to_fix(tmp_path: Path) -> None:
    ctx = ToolContext(as_of=NOW, memory=_memory(tmp_path))
    result = REGISTRY.run("similar_incidents", {"services": []}, ctx)
    assert result.status == "error" and result.retryable
    assert "services" in result.summary


def test_a_hand_edited_file_is_skipped_and_feedback_needs_a_remembered_incident(tmp_path: Path) -> None:
    memory = _memory(tmp_path)
    (memory.folder / "broken.json").write_text("{not json")
    assert len(memory.past_incidents(until=NOW, limit=10)) == 2
    try:
        memory.add_feedback("nope", PastFeedback(verdict="right", at=NOW))
    except KeyError as exc:
        assert "not in the memory" in str(exc)
    else:
        raise AssertionError("feedback on an unknown incident must fail")


class _Unreachable:
    def past_incidents(self, *, until: datetime, limit: int) -> list[PastIncident]:
        raise BackendError("the incident store did not answer: OperationalError")


def test_an_unreadable_memory_is_said_and_does_not_degrade_the_diagnosis() -> None:
    result = REGISTRY.run("similar_incidents", ARGS, ToolContext(as_of=NOW, memory=_Unreachable()))
    assert result.status == "no_data" and "could not be read" in result.summary
