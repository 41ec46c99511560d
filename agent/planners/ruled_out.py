"""What an investigation checked and set aside for one hypothesis, in the words an on-call engineer uses.

Only real relations count: an entity is "anomalous only through" the cause when the ranking found
its anomaly explained by the cause itself (its callers for a service or an external dependency, the
services whose pods run on a node, the callers of a failing pod's service). A node or an external
has no service of its own, so nothing is ever "explained by None", and the cause never rules itself out.
"""

from __future__ import annotations

from datetime import datetime

from agent.planners.classify import STRONG
from agent.planners.findings import (
    Findings,
    add_kube_facts,
    candidates_from_rank,
    parse_time,
    rows,
    steps_of,
)
from agent.state import PlannerView
from tools.metrics.units import fmt_sigmas

MAX_NOTES = 6
MAX_THROUGH = 3  # symptoms named one by one; the rest counted, so rollouts checked still show


def _strongest_change(c: Findings) -> str:
    """Its most anomalous signal's change in units (the ranking lists signals strongest first)."""
    return next(iter(c.changes.values()), f"score {fmt_sigmas(c.score)}")


def _through(c: Findings) -> str:
    cause = c.explained_by or "?"
    if cause.startswith("node/"):
        return (
            f"{c.entity} is anomalous too ({_strongest_change(c)}), but only because its pods run on {cause}"
        )
    return f"{c.entity} is anomalous too ({_strongest_change(c)}), but only through its dependency {cause}"


def _siblings(view: PlannerView, f: Findings) -> list[str]:
    """For one failing pod: the rest of its service is healthy, which rules out a service-wide fault."""
    if f.entity_kind != "pod" or not f.service:
        return []
    pods = [
        str(pod.get("name"))
        for step in steps_of(view, "kube_pods")
        if step.call.args.get("workload") == f.service
        for pod in rows(step.data.get("pods"))
    ]
    others = [p for p in dict.fromkeys(pods) if f"pod/{p}" != f.entity]
    count = f"the other {len(others)} pods" if others else "the other pods"
    return [
        f"{count} of {f.service} serve without errors: not a fault of the whole service "
        "(a bad deploy, a failing dependency)"
    ]


def ruled_out(view: PlannerView, f: Findings) -> list[str]:
    """What was checked and does not explain the incident: entities whose anomaly comes through `f`,
    the healthy siblings of a failing pod, and rollouts that were quiet or explained by `f`."""
    ranked = candidates_from_rank(view)
    causes = {f.entity} | ({f.service} if f.service else set())
    through = [c for c in ranked if c.explained_by in causes and c.entity not in causes]
    explained = {c.service: str(c.explained_by) for c in through if c.service}
    notes = [_through(c) for c in through[:MAX_THROUGH]] + _siblings(view, f)
    if len(through) > MAX_THROUGH:
        more = len(through) - MAX_THROUGH
        notes.append(
            f"{more} more {'entity is' if more == 1 else 'entities are'} anomalous only through {f.entity}"
        )
    for other in ranked:
        if other.entity in causes or other.service is None:
            continue
        add_kube_facts(other, view)
        age = other.revision_age_s
        if age is not None and age < -30 * 60 and other.score < STRONG:
            notes.append(
                f"{other.service} was deployed {-age / 60:.0f} min before the onset, but its signals "
                f"stayed within their usual range (score {fmt_sigmas(other.score)})"
            )
    # Rollouts the namespace's events show, on workloads the ranking found quiet or explained by the
    # cause: the change an on-call engineer suspects first, checked and set aside.
    scores = {c.service: c.score for c in ranked if c.service}
    for deployment, when in recent_rollouts(view).items():
        score = scores.get(deployment, 0.0)
        if deployment in causes or (score >= STRONG and deployment not in explained):
            continue
        if any(note.startswith(f"{deployment} was") for note in notes):
            continue
        minutes = (view.incident.as_of - when).total_seconds() / 60
        why = (
            f"its anomaly comes from its dependency {explained[deployment]}"
            if deployment in explained
            else f"its signals stayed within their usual range (score {fmt_sigmas(score)})"
        )
        notes.append(f"{deployment} was rolled out {minutes:.0f} min before the investigation, but {why}")
    return notes[:MAX_NOTES]


def recent_rollouts(view: PlannerView) -> dict[str, datetime]:
    """Deployments whose ReplicaSets were scaled (a rollout) in the events the investigation read."""
    found: dict[str, datetime] = {}
    for step in steps_of(view, "kube_events"):
        for event in rows(step.data.get("events")):
            if event.get("reason") != "ScalingReplicaSet" or event.get("object_kind") != "Deployment":
                continue
            when = parse_time(event.get("first_seen") or event.get("last_seen"))
            name = str(event.get("object_name") or "")
            if not name or when is None:
                continue
            found[name] = max(found.get(name, when), when)
    return found
