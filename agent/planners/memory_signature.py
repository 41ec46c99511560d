"""An incident's signature for the memory of past incidents, from what the agent has at diagnosis time.

The same function makes the signature the rules planner asks `similar_incidents` with (before it
diagnoses) and the one the report keeps (after), so an incident replayed later is compared like with
like: the alerted services and the ranking's best unexplained candidates, the signals that moved on
them and which way, the fault kind, and a rollout right before the onset.
"""

from __future__ import annotations

from agent.diagnosis import Diagnosis
from agent.incident import Incident
from agent.planners.classify import STRONG, deployed_at_onset
from agent.planners.findings import Findings, add_kube_facts, candidates_from_rank
from agent.state import Budget, PlannerView, Step, Usage
from tools.memory.model import Cause, IncidentSignature, PastIncident

MAX_SUSPECTS = 2


def suspects(view: PlannerView) -> list[Findings]:
    """The ranking's strongest unexplained entities (with their Kubernetes facts) that name a service."""
    chosen = [
        c for c in candidates_from_rank(view) if c.score >= STRONG and c.explained_by is None and c.service
    ][:MAX_SUSPECTS]
    for f in chosen:
        add_kube_facts(f, view)
    return chosen


def signature_of(view: PlannerView, fault_kind: str | None) -> IncidentSignature:
    found = suspects(view)
    services = list(dict.fromkeys([*view.incident.services, *(str(f.service) for f in found)]))
    symptoms = [
        f"{f.service}:{f.kinds.get(name, 'other')}:{'up' if sigma >= 0 else 'down'}"
        for f in found
        for name, sigma in f.sigmas.items()
    ]
    changes = [f"rollout:{f.service}" for f in found if deployed_at_onset(f)]
    return IncidentSignature(
        namespace=view.incident.namespace,
        services=services[:20],
        symptoms=sorted(set(symptoms))[:60],
        fault_kind=fault_kind,
        changes=sorted(set(changes)),
    )


def signature_after(incident: Incident, steps: list[Step], diagnosis: Diagnosis | None) -> IncidentSignature:
    """The signature a finished investigation is remembered by: its top hypothesis's fault kind, and
    that hypothesis's service among the affected ones."""
    view = PlannerView(incident=incident, steps=steps, evidence={}, usage=Usage(), budget=Budget())
    top = diagnosis.top if diagnosis else None
    signature = signature_of(view, top.fault_kind if top else None)
    if top is not None and top.service and top.service not in signature.services:
        signature = signature.model_copy(update={"services": [*signature.services, top.service][:20]})
    return signature


def past_incident(
    incident: Incident, verdict: str, diagnosis: Diagnosis | None, signature: IncidentSignature
) -> PastIncident:
    """How the memory keeps a finished investigation (feedback is added when responders give it)."""
    top = diagnosis.top if diagnosis else None
    cause = None
    if top is not None:
        where = top.entity if top.entity_kind == "node" else (top.service or top.entity)
        cause = Cause(service=where, kind=top.fault_kind)
    return PastIncident(
        incident_id=incident.id,
        title=incident.title[:500],
        at=incident.as_of,
        signature=signature,
        verdict=verdict[:1000],
        cause=cause,
    )
