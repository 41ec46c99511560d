"""Recording what the metric tools read: a MetricsBackend that forwards every call and remembers, for
each series selector a query used, the earliest instant it had to cover.

Only the selectors and windows are kept while the investigation runs (cheap); the raw samples are
fetched once at the end (`record_prometheus.fetch_series`), over [earliest start, as_of], so a replay
evaluates the same PromQL on the same samples.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from evals.recordings.promql_selectors import PromQLError, Selector, label_matchers, reads
from tools.metrics.client import ApiAlert, InstantSeries, MetricsBackend, RangeSeries


@dataclass
class MetricsLog:
    """Per selector (as written), the earliest instant some query read through it. Tools run on
    several threads at once: every update holds the lock, so no earlier start is lost."""

    starts: dict[Selector, datetime] = field(default_factory=dict)
    queries: int = 0
    problems: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def note(self, selectors: Iterable[Selector], start: datetime) -> None:
        with self._lock:
            for selector in selectors:
                known = self.starts.get(selector)
                self.starts[selector] = start if known is None else min(known, start)

    def _problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)

    def note_query(self, promql: str, start: datetime) -> None:
        with self._lock:
            self.queries += 1
        try:
            found = reads(promql)
        except PromQLError as exc:  # never fail the tool over the recording: say what is missing
            self._problem(f"query not recorded: {exc}")
            return
        self.note(found.selectors, start - timedelta(seconds=found.reach_s))

    def note_matchers(self, match: Sequence[str], start: datetime) -> None:
        with self._lock:
            self.queries += 1
        for selector in match:
            try:
                self.note([label_matchers(selector)], start)
            except PromQLError as exc:
                self._problem(f"series selector not recorded: {exc}")


class RecordingMetrics:
    """A MetricsBackend that forwards to `inner` and notes what each successful call selected."""

    def __init__(self, inner: MetricsBackend, log: MetricsLog) -> None:
        self.inner = inner
        self.log = log

    def instant(self, promql: str, at: datetime) -> list[InstantSeries]:
        result = self.inner.instant(promql, at)
        self.log.note_query(promql, at)
        return result

    def range(self, promql: str, start: datetime, end: datetime, step_s: float) -> list[RangeSeries]:
        result = self.inner.range(promql, start, end, step_s)
        self.log.note_query(promql, start)
        return result

    def label_values(
        self, label: str, start: datetime, end: datetime, match: Sequence[str] = ()
    ) -> list[str]:
        # Without `match` (e.g. every metric name, for discovery) nothing in particular was selected:
        # a replay answers from the series the recording holds.
        result = self.inner.label_values(label, start, end, match)
        self.log.note_matchers(match, start)
        return result

    def series(self, match: Sequence[str], start: datetime, end: datetime) -> list[dict[str, str]]:
        result = self.inner.series(match, start, end)
        self.log.note_matchers(match, start)
        return result

    def alerts(self) -> list[ApiAlert]:
        """The rule manager's alerts *now*: nothing a past instant can be replayed from (the ALERTS
        series, which the tools query for past instants, is recorded like any other)."""
        return self.inner.alerts()

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()
