"""Sampled traces through the call graph, consistent with the load model at their instant: a server
span per service visited and a client span per call, failing where the fault makes calls fail."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from evals.scenario import Scenario
from evals.world.faults import Effects
from evals.world.grid import Grid
from evals.world.load import CLIENT_TIMEOUT_MS, NETWORK_MS, RETRANSMIT_MS, LoadState, saturation_errors
from evals.world.logs import route
from evals.world.model import SpanRecord
from evals.world.planted import plant_spans
from evals.world.pods import ServicePods

TRACES_PER_MINUTE = 2  # per entry service
TRACE_WINDOW_MS = 3_600_000  # traces cover the last hour before `end`


@dataclass
class _Moment:
    """The load model at one sample, as plain floats (span sampling works call by call)."""

    pods: dict[
        str, tuple[list[str], list[float], list[float], list[float]]
    ]  # names, cum. rates, lat, own err
    slowest: dict[str, float]
    external_ms: dict[str, float]
    loss: dict[str, float]


@dataclass
class _Walk:
    scenario: Scenario
    grid: Grid
    plans: dict[str, ServicePods]
    state: LoadState
    effects: Effects
    rng: np.random.Generator
    spans: list[SpanRecord] = field(default_factory=list)
    moments: dict[int, _Moment] = field(default_factory=dict)

    def moment(self, i: int) -> _Moment:
        if i not in self.moments:
            pods = {}
            for service, plan in self.plans.items():
                sat = float(saturation_errors(self.state.services[service].util[i : i + 1])[0])
                live = [p.name for p in plan.pods if self.state.pods[p.name].running[i]]
                rates = np.cumsum([self.state.pods[n].rate[i] + 1e-9 for n in live]).tolist()
                lat = [float(self.state.pods[n].lat_ms[i]) for n in live]
                err = [1.0 - (1.0 - float(self.effects.pods[n].err[i])) * (1.0 - sat) for n in live]
                pods[service] = (live, rates, lat, err)
            topology = self.scenario.topology.services
            slowest = {
                s: max((float(self.state.edges[(s, c)].mean_ms[i]) for c in spec.calls), default=0.0)
                for s, spec in topology.items()
            }
            external = {
                s: float(self.state.services[s].lat_ms[i])
                for s, spec in topology.items()
                if not spec.has_pods
            }
            loss = {s: float(a[i]) for s, a in self.effects.loss.items()}
            self.moments[i] = _Moment(pods, slowest, external, loss)
        return self.moments[i]

    def new_id(self, bits: int) -> int:
        return int.from_bytes(self.rng.bytes(bits // 8), "big") | 1

    def server(
        self, service: str, i: int, start_ns: int, trace: int, parent: int | None
    ) -> tuple[int, bool] | None:
        """Record the server span of `service` (and its subtree); None when no pod could take the call."""
        live, rates, lats, errs = self.moment(i).pods[service]
        if not live:
            return None
        k = min(bisect.bisect_right(rates, self.rng.random() * rates[-1]), len(live) - 1)
        pod = live[k]
        own_ms = max(lats[k] - self.moment(i).slowest[service], 0.05) * math.exp(self.rng.normal(0, 0.35))
        span_id = self.new_id(64)
        calls_at = start_ns + int(own_ms * 0.3 * 1e6)
        end_ns, failed = calls_at, bool(self.rng.random() < errs[k])
        for callee in self.scenario.topology.services[service].calls:
            child_end, child_failed = self.client(service, pod, callee, i, calls_at, trace, span_id)
            end_ns, failed = max(end_ns, child_end), failed or child_failed
        end_ns += int(own_ms * 0.7 * 1e6)
        self._record(trace, span_id, parent, service, pod, service, "server", start_ns, end_ns, failed)
        return end_ns, failed

    def client(
        self, caller: str, pod: str, callee: str, i: int, start_ns: int, trace: int, parent: int
    ) -> tuple[int, bool]:
        """The call from `caller` to `callee`: one attempt, or, with a client policy (realism), up to
        1 + retries attempts one after the other, each cut off at the timeout."""
        timeout_ms, retries = self.scenario.realism.client(caller)
        end_ns, failed = self.attempt(caller, pod, callee, i, start_ns, trace, parent, timeout_ms, 0)
        for resend in range(1, retries + 1):
            if not failed:
                break
            end_ns, failed = self.attempt(caller, pod, callee, i, end_ns, trace, parent, timeout_ms, resend)
        return end_ns, failed

    def attempt(
        self,
        caller: str,
        pod: str,
        callee: str,
        i: int,
        start_ns: int,
        trace: int,
        parent: int,
        timeout_ms: float | None,
        resend: int,
    ) -> tuple[int, bool]:
        span_id = self.new_id(64)
        loss = self.moment(i).loss.get(callee, 0.0)
        draw = self.rng.random()
        hop_ns = int(NETWORK_MS / 2 * 1e6)
        if draw < loss / 2:  # lost for good: the client gives up
            end_ns, failed = start_ns + int((timeout_ms or CLIENT_TIMEOUT_MS) * 1e6), True
        else:
            extra = int(RETRANSMIT_MS * 1e6) if draw < loss else 0
            if self.scenario.topology.services[callee].has_pods:
                answer = self.server(callee, i, start_ns + hop_ns + extra, trace, span_id)
                end_ns, failed = (answer[0] + hop_ns, answer[1]) if answer else (start_ns + int(1e6), True)
            else:
                took = self.moment(i).external_ms[callee] * math.exp(self.rng.normal(0, 0.35))
                end_ns, failed = start_ns + extra + int((took + NETWORK_MS) * 1e6), False
        more: dict[str, str | int | float | bool] = {"http.request.resend_count": resend} if resend else {}
        if timeout_ms is not None and end_ns - start_ns > timeout_ms * 1e6:  # the client gave up
            end_ns, failed = start_ns + int(timeout_ms * 1e6), True
            more.update({"error.type": "timeout", "http.response.status_code": 504})
        self._record(trace, span_id, parent, caller, pod, callee, "client", start_ns, end_ns, failed, more)
        return end_ns, failed

    def _record(
        self,
        trace: int,
        span_id: int,
        parent: int | None,
        service: str,
        pod: str,
        route_of: str,
        kind: Literal["server", "client"],
        start_ns: int,
        end_ns: int,
        failed: bool,
        more: dict[str, str | int | float | bool] | None = None,
    ) -> None:
        """One span with the HTTP semantic-convention attributes; a client span names its callee."""
        attributes: dict[str, str | int | float | bool] = {
            "http.request.method": "GET",
            "http.response.status_code": 500 if failed else 200,
            "k8s.pod.name": pod,
            "k8s.namespace.name": self.scenario.topology.namespace,
        }
        if kind == "server":
            attributes["http.route"] = route(route_of)
        else:
            attributes["server.address"] = route_of
        attributes.update(more or {})
        self.spans.append(
            SpanRecord(
                trace_id=trace,
                span_id=span_id,
                parent_span_id=parent,
                service=service,
                pod=pod,
                name=f"GET {route(route_of)}",
                kind=kind,
                start_ns=start_ns,
                end_ns=end_ns,
                error=failed,
                attributes=attributes,
            )
        )


def build_spans(
    scenario: Scenario, grid: Grid, plans: dict[str, ServicePods], state: LoadState, effects: Effects
) -> list[SpanRecord]:
    walk = _Walk(scenario, grid, plans, state, effects, grid.rng("traces"))
    begin = max(grid.start_ms, grid.end_ms - TRACE_WINDOW_MS)
    every_ms = 60_000 // TRACES_PER_MINUTE
    for service, spec in scenario.topology.services.items():
        if not spec.entry or service not in plans:
            continue
        for at_ms in range(begin, grid.end_ms - 2000, every_ms):
            moment = at_ms + int(walk.rng.integers(0, every_ms))
            i = grid.latest(moment)  # only pods that already exist at that moment serve it
            walk.server(service, i, moment * 1_000_000, walk.new_id(128), None)
    return plant_spans(scenario, walk.spans)
