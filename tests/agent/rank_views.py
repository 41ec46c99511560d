"""Planner views built from a real ranking of synthetic signals: the same ranking code and the same
candidate rows the `rank_root_causes` tool returns, without a Prometheus, so a test states a topology
and a fault and reads what the planner makes of it."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
from pydantic import JsonValue

from agent.incident import Incident
from agent.state import Budget, PlannerView, Step, ToolCall, Usage
from tools.anomaly.incident_rank import fold_pods
from tools.anomaly.rank import SeriesKey, SignalKind, SignalMatrix, rank_root_causes
from tools.anomaly.signals import FetchedSignals
from tools.anomaly.tools import candidate_row, iso
from tools.contract import Evidence

STEP_S = 15.0
POINTS = 480  # 2 h
ONSET_INDEX = 400
TIMES = 1_800_000_000.0 + STEP_S * np.arange(POINTS)
ONSET = float(TIMES[ONSET_INDEX])
AS_OF = datetime.fromtimestamp(float(TIMES[-1]), tz=UTC)
KINDS: dict[str, SignalKind] = {
    "error_ratio": "errors",
    "callers_error_ratio": "errors",
    "pod_error_ratio": "errors",
    "latency_p99": "latency",
    "callers_latency_p99": "latency",
    "failed_pods": "resource",
    "pressure": "resource",
}


def quiet(level: float, noise: float, seed: int) -> np.ndarray:
    return np.abs(np.random.default_rng(seed).normal(level, noise, POINTS))


def stepped(level: float, noise: float, jump: float, seed: int) -> np.ndarray:
    """A noisy line that jumps by `jump` at the onset and stays there."""
    series = quiet(level, noise, seed)
    series[ONSET_INDEX:] += jump
    return series


_ids = itertools.count()


def step(
    tool: str, data: dict[str, JsonValue], evidence: Sequence[str] = (), round_no: int = 2, **args: JsonValue
) -> Step:
    """A successful call of round `round_no` (the rules planner counts rounds by call id)."""
    call = ToolCall(id=f"r{round_no}-{next(_ids)}-{tool}", tool=tool, args=dict(args))
    return Step(call=call, status="ok", summary=tool, data=data, evidence=list(evidence))


def rank_view(
    series: Mapping[str, Mapping[str, np.ndarray]],
    calls: Mapping[str, Sequence[str]],
    *,
    pod_service: Mapping[str, str] | None = None,
    services: Sequence[str] = (),
    extra: Sequence[Step] = (),
    extra_evidence: Sequence[Evidence] = (),
) -> PlannerView:
    """The view after a ranking of `series` (`{entity: {signal: values}}`), plus `extra` steps."""
    keys = [SeriesKey(e, s, KINDS[s]) for e, signals in series.items() for s in signals]
    values = np.vstack([v for signals in series.values() for v in signals.values()])
    matrix = SignalMatrix(times=TIMES, keys=keys, values=values)
    ranking = rank_root_causes(matrix, ONSET, calls)
    pods = dict(pod_service or {})
    fetched = FetchedSignals(matrix=matrix, services=[], calls=dict(calls), pod_service=pods, pod_node={})
    candidates = fold_pods(ranking, fetched)

    def service_of(entity: str) -> str | None:
        if entity.startswith("node/"):
            return None
        return pods.get(entity[4:]) if entity.startswith("pod/") else entity

    ids = [f"anomaly:rank:{c.entity}:test" for c in candidates]
    rank = step(
        "rank_root_causes",
        {
            "onset": iso(ranking.onset),
            "threshold": ranking.threshold,
            "anomalous": ranking.anomalous,
            "candidates": [candidate_row(c, service_of(c.entity), None) for c in candidates],
        },
        ids,
        round_no=1,
        namespace="shop",
    )
    steps = [rank, *extra]
    evidence = {i: Evidence(id=i, source="anomaly", description=i) for i in ids}
    evidence |= {
        e.id: e for s in extra for e in [Evidence(id=i, source="test", description=i) for i in s.evidence]
    }
    evidence |= {e.id: e for e in extra_evidence}
    incident = Incident(
        id="t-1", as_of=AS_OF, source="alert", title="t", namespace="shop", services=list(services)
    )
    return PlannerView(incident=incident, steps=steps, evidence=evidence, usage=Usage(), budget=Budget())
