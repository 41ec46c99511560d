"""A synthetic Prometheus at the `MetricsBackend` protocol boundary: each of the watch loop's queries
answered from a function of (signal, time), with the labels the real queries return."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from server.watch import signals
from server.watch.config import WatchConfig
from tools.metrics.client import ApiAlert, InstantSeries, RangeSeries

# (signal, epoch seconds) -> {service or pod: value}
World = Callable[[str, float], dict[str, float]]
NAMESPACE = "shop"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class SyntheticBackend:
    def __init__(self, world: World, config: WatchConfig) -> None:
        self.world = world
        self.by_query = {
            text: signal for signal, text in signals.queries(config.namespaces, config.window).items()
        }
        self.queries = 0

    def instant(self, promql: str, at: datetime) -> list[InstantSeries]:
        self.queries += 1
        signal = self.by_query[promql]  # a query the loop never sends is a test failure
        label = "pod" if signal in signals.SATURATION else signals.LABEL_OF.get(signal, "service")
        return [
            InstantSeries(labels={"namespace": NAMESPACE, label: name}, value=value)
            for name, value in self.world(signal, at.timestamp()).items()
        ]

    def range(self, promql: str, start: datetime, end: datetime, step_s: float) -> list[RangeSeries]:
        raise AssertionError("the watch loop reads instants only")

    def label_values(
        self, label: str, start: datetime, end: datetime, match: Sequence[str] = ()
    ) -> list[str]:
        raise AssertionError("the watch loop reads instants only")

    def series(self, match: Sequence[str], start: datetime, end: datetime) -> list[dict[str, str]]:
        raise AssertionError("the watch loop reads instants only")

    def alerts(self) -> list[ApiAlert]:
        raise AssertionError("the watch loop reads instants only")


def at(step: int, step_s: float = 30.0) -> datetime:
    return START + timedelta(seconds=step * step_s)
