"""medic's own Prometheus metrics (`/metrics`), one registry per app so tests and replicas never mix."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from agent.assemble import Event
from agent.report import Report


class _QueueDepth(Collector):
    """Read at scrape time, so every replica reports the shared queue as it is."""

    def __init__(self, depth: Callable[[], int]) -> None:
        self.depth = depth

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            value = float(self.depth())
        except Exception:  # the database is away: say nothing rather than a wrong zero
            return
        yield GaugeMetricFamily("medic_queue_depth", "incidents waiting for a worker", value=value)


class ServiceMetrics:
    def __init__(self, queue_depth: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.investigations = Counter(
            "medic_investigations",
            "investigations that reached a rest point, by outcome",
            ["outcome"],
            registry=r,
        )
        self.tool_seconds = Histogram(
            "medic_tool_seconds",
            "tool call latency",
            ["tool"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.tool_errors = Counter(
            "medic_tool_errors", "tool calls that failed, by tool", ["tool"], registry=r
        )
        self.approvals = Counter(
            "medic_approvals", "approval answers received, by verdict", ["verdict"], registry=r
        )
        self.actions = Counter(
            "medic_actions", "proposed actions, by the guard's decision", ["decision"], registry=r
        )
        self.llm_tokens = Counter("medic_llm_tokens", "LLM tokens spent by investigations", registry=r)
        r.register(_QueueDepth(queue_depth))

    def observe(self, _incident_id: str, event: Event) -> None:
        """An agent progress event (tool calls as they finish)."""
        if event.get("event") != "tool":
            return
        tool = str(event.get("tool"))
        elapsed = event.get("elapsed_s")
        if isinstance(elapsed, int | float):
            self.tool_seconds.labels(tool).observe(float(elapsed))
        if event.get("status") == "error":
            self.tool_errors.labels(tool).inc()

    def rest_point(self, report: Report, outcome: str) -> None:
        self.investigations.labels(outcome).inc()
        self.llm_tokens.inc(report.usage.llm_tokens)
        if report.guard is not None and report.guard.decision:
            self.actions.labels(report.guard.decision.split(" ", 1)[0]).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
