"""Past incidents as hypotheses to verify, never as answers (the rules planner's use of memory).

Once the rules planner has a candidate, it asks `similar_incidents` with this incident's signature
(`memory_call_args`). When it diagnoses, `weigh_memory` checks each past incident's cause (a
responder's correction when one was given, else the verdict of the time) against today's hypotheses,
which stand on today's evidence alone:

- a past cause that a today's hypothesis already names (same service, same fault kind) and that
  today's own facts support keeps that hypothesis and is cited by it (its confidence is unchanged:
  the past never adds certainty today's evidence does not give);
- a past cause no today's hypothesis supports is listed as checked and ruled out;
- a responder's correction is surfaced first: "last time this looked like X, it was Y, fixed by Z".
"""

from __future__ import annotations

from pydantic import JsonValue

from agent.diagnosis import RANKING_EVIDENCE, Diagnosis, Hypothesis
from agent.planners.findings import rows, steps_of
from agent.planners.memory_signature import signature_of
from agent.state import PlannerView

TOOL = "similar_incidents"


def memory_call_args(view: PlannerView, fault_kind: str | None) -> dict[str, JsonValue] | None:
    """The arguments of the memory call for this view; None when no service is named or suspected."""
    signature = signature_of(view, fault_kind)
    if not signature.services:
        return None
    return {
        "services": list(signature.services),
        "namespace": signature.namespace,
        "symptoms": list(signature.symptoms),
        "fault_kind": fault_kind,
        "changes": list(signature.changes),
        "exclude_incident": view.incident.id,
    }


def _cause_text(value: JsonValue) -> str:
    if not isinstance(value, dict) or not value.get("service"):
        return "no named cause"
    kind = str(value.get("kind") or "an unknown fault").replace("_", " ")
    return f"{kind} on {value['service']}"


def _supports(h: Hypothesis, cause: dict[str, JsonValue]) -> bool:
    """Today's hypothesis names the past cause and stands on more than the ranking."""
    where = cause.get("service")
    same_place = where in (h.service, h.entity)
    same_kind = cause.get("kind") is None or cause.get("kind") == h.fault_kind
    own_facts = any(not e.startswith(RANKING_EVIDENCE) for e in h.evidence)
    return same_place and same_kind and own_facts


def weigh_memory(diagnosis: Diagnosis, view: PlannerView) -> Diagnosis:
    """`diagnosis` with the similar past incidents weighed against it (a no-op without the memory call)."""
    steps = [s for s in steps_of(view, TOOL) if s.status == "ok"]
    if not steps:
        return diagnosis
    step = steps[-1]
    hypotheses = list(diagnosis.hypotheses)
    corrections: list[str] = []
    weighed: list[str] = []
    checked = list(diagnosis.checked)
    for i, match in enumerate(rows(step.data.get("matches"))):
        past = str(match.get("incident_id"))
        when = str(match.get("at"))[:16].replace("T", " ")
        cited = step.evidence[i] if i < len(step.evidence) else None
        cause = match.get("true_cause")
        if match.get("corrected"):
            fixed = f", fixed by {match['fixed_by']}" if match.get("fixed_by") else ""
            corrections.append(
                f"last time this looked like {_cause_text(match.get('cause'))} ({past}, {when} UTC), "
                f"a responder corrected it: it was {_cause_text(cause)}{fixed}"
            )
        if not isinstance(cause, dict) or not cause.get("service"):
            weighed.append(f"{past}: no cause was named, nothing to check")
            continue
        at = next((n for n, h in enumerate(hypotheses) if _supports(h, cause)), None)
        if at is None:
            checked.append(
                f"past incident {past}'s cause, {_cause_text(cause)}: not supported today, ruled out"
            )
            weighed.append(f"{past}: its cause, {_cause_text(cause)}, is not supported by today's evidence")
            continue
        h = hypotheses[at]
        if cited is not None and cited in view.evidence and cited not in h.evidence:
            hypotheses[at] = h.model_copy(update={"evidence": [*h.evidence, cited]})
        weighed.append(f"{past}: its cause, {_cause_text(cause)}, is supported by today's evidence too")
    return diagnosis.model_copy(
        update={
            "hypotheses": hypotheses,
            "checked": list(dict.fromkeys(checked)),
            "recalled": [*corrections, *weighed],
        }
    )
