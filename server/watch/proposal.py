"""The runbook's action for a forecast saturation, as a proposal (never executed here).

CPU forecast to reach its limit reads as more load than the replicas serve: the runbook's entry for
a traffic surge (a scale, bounded by its `scale:` rule, sized for the forecast utilisation). Memory
forecast to reach its limit reads as a leak: the runbook's entry for a memory leak. Only entries
whose target needs nothing but $namespace and $service apply; with none, there is no proposal. The
proposal travels with the incident; the guard checks it, and a person approves it, like any other.
"""

from __future__ import annotations

from string import Template

from agent.diagnosis import FaultKind
from agent.remediation import scale_replicas
from agent.runbook import Runbook
from agent.state import Proposal
from tools.action_request import ActionRequest

REQUESTED_BY = "medic-watch"
_READS_AS: dict[str, FaultKind] = {"cpu": "traffic_surge", "memory": "memory_leak"}


def forecast_proposal(
    runbook: Runbook, resource: str, namespace: str, service: str, replicas: int, utilization: float
) -> Proposal | None:
    """The first runbook entry for what the forecast reads as, filled for this service."""
    kind = _READS_AS.get(resource)
    if kind is None:
        return None
    for entry in runbook.entries_for(kind):
        if entry.action is None or not entry.action.placeholders <= {"namespace", "service"}:
            continue
        if entry.when.entity_kind is not None and "service" not in entry.when.entity_kind:
            continue
        target = Template(entry.action.target).substitute(namespace=namespace, service=service)
        params = dict(entry.action.params)
        how = ""
        if entry.action.kind == "scale":
            if entry.scale is None or replicas < 1:
                continue
            wanted, how = scale_replicas(replicas, utilization, entry.scale)
            params = {"replicas": wanted}
        action = ActionRequest(
            kind=entry.action.kind,
            target=target,
            params=params,
            reason=f"ahead of a forecast {resource} saturation: {entry.why}" + (f" ({how})" if how else ""),
            requested_by=REQUESTED_BY,
        )
        return Proposal(action=action, runbook_entry=entry.id, reason=entry.why)
    return None
