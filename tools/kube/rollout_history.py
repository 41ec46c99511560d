"""When each revision of a Deployment became current, read the way `kubectl describe` shows it.

A ReplicaSet's creationTimestamp is when its *first* revision became current. A rollback (or any edit
back to an earlier pod template) reuses the old ReplicaSet: the controller gives it the next revision
number, appends the old number to its `deployment.kubernetes.io/revision-history` annotation, and
leaves its creation time alone. When such a revision became current is read from the Deployment's
`ScalingReplicaSet` events ("Scaled up replica set X to 2 from 0") and, for the current revision, from
the Progressing condition naming its ReplicaSet (lastUpdateTime: when the rollout last progressed, no
earlier than the switch). Events expire (after an hour by default), so such a time may be unknown:
None, never a guess.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from tools.errors import ToolError
from tools.kube.client import KubeReader
from tools.kube.models import Deployment, Event, ReplicaSet

# Both message formats of the deployment controller: "... to 3" (older releases) and "... to 3 from 0".
_SCALED_UP = re.compile(r"^Scaled up replica set (?P<rs>\S+) to (?P<to>\d+)(?: from (?P<was>\d+))?$")
_NAMED_RS = re.compile(r'[Rr]eplica ?[Ss]et "(?P<rs>[^"]+)"')

Source = Literal["created", "event", "condition"]


class RolloutRevision(BaseModel):
    """One revision number of the Deployment: the ReplicaSet that ran it and since when it was current."""

    model_config = ConfigDict(frozen=True)

    revision: int
    replicaset: str
    template_digest: str | None
    created: datetime | None  # the ReplicaSet's
    became_current: datetime | None
    source: Source | None  # where became_current was read; None: unknown
    restores: int | None  # the earlier revision whose template this one brought back (a rollback)
    latest: bool  # the ReplicaSet's own current number (earlier numbers come from its revision-history)


def _scale_ups(events: list[Event]) -> dict[str, list[datetime]]:
    """ReplicaSet name -> the instants the Deployment's events show it scaled up from zero (or, in
    the older message format, scaled up at all)."""
    out: dict[str, list[datetime]] = {}
    for e in events:
        match = _SCALED_UP.match(e.message.strip()) if e.reason == "ScalingReplicaSet" else None
        if match is None or e.object_kind not in ("", "Deployment") or match["was"] not in (None, "0"):
            continue
        out.setdefault(match["rs"], []).extend(t for t in (e.first_seen, e.last_seen) if t is not None)
    return out


def _progressing(deployment: Deployment) -> tuple[str, datetime] | None:
    """The ReplicaSet the Progressing condition names and the condition's lastUpdateTime."""
    for c in deployment.conditions:
        named = _NAMED_RS.search(c.get("message", ""))
        if c.get("type") == "Progressing" and c.get("status") == "True" and named and c.get("last_update"):
            try:
                return named["rs"], datetime.fromisoformat(c["last_update"].replace("Z", "+00:00"))
            except ValueError:
                return None
    return None


def _within(moment: datetime, lower: datetime | None, upper: datetime | None) -> bool:
    return (lower is None or moment >= lower) and (upper is None or moment < upper)


def rollout_history(
    deployment: Deployment, replicasets: list[ReplicaSet], events: list[Event]
) -> list[RolloutRevision]:
    """Every revision number the ReplicaSets record, oldest first, with when it became current.

    A time is only taken inside the window it must lie in: after the previous revision became current
    and before the next ReplicaSet was created; an aggregated event (count > 1) offers its first and
    last instants."""
    entries: list[tuple[int, ReplicaSet, int | None]] = []
    for rs in replicasets:
        if rs.revision is None:
            continue
        numbers = sorted({*(n for n in rs.revision_history if n < rs.revision), rs.revision})
        entries += [(n, rs, numbers[i - 1] if i else None) for i, n in enumerate(numbers)]
    entries.sort(key=lambda e: e[0])
    scale_ups = _scale_ups(events)
    progressing = _progressing(deployment)
    current = max((e[0] for e in entries), default=None)
    out: list[RolloutRevision] = []
    lower: datetime | None = None
    for index, (number, rs, restores) in enumerate(entries):
        when: datetime | None = None
        source: Source | None = None
        if restores is None:
            when, source = rs.created, "created" if rs.created else None
        else:
            later = [r.created for _, r, back in entries[index + 1 :] if back is None and r.created]
            upper = min(later, default=None)
            seen = sorted(t for t in scale_ups.get(rs.name, []) if _within(t, lower, upper))
            if seen:
                when, source = seen[0], "event"
            elif (
                progressing is not None
                and (number, rs.name) == (current, progressing[0])
                and _within(progressing[1], lower, upper)
            ):
                when, source = progressing[1], "condition"
        lower = max(lower, when) if lower and when else (when or lower)
        out.append(
            RolloutRevision(
                revision=number,
                replicaset=rs.name,
                template_digest=rs.template_digest,
                created=rs.created,
                became_current=when,
                source=source,
                restores=restores,
                latest=number == rs.revision,
            )
        )
    return out


def owned_replicasets(kube: KubeReader, deployment: Deployment) -> list[ReplicaSet]:
    return [
        r
        for r in kube.list_replicasets(deployment.namespace, deployment.selector)
        if r.owner in (None, deployment.name)
    ]


def deployment_events(kube: KubeReader, deployment: Deployment) -> list[Event] | None:
    """The Deployment's own events; None when they cannot be read (times from them are then unknown)."""
    try:
        events = kube.list_events(deployment.namespace, deployment.name)
    except ToolError:
        return None
    return [e for e in events if e.object_kind in ("", "Deployment")]


def read_rollout_history(kube: KubeReader, namespace: str, name: str) -> list[RolloutRevision]:
    """The rollout history of one Deployment as the cluster shows it now (raises `tools.errors`)."""
    deployment = kube.get_deployment(namespace, name)
    events = deployment_events(kube, deployment) or []
    return rollout_history(deployment, owned_replicasets(kube, deployment), events)
