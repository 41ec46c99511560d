"""PromQL against a sandbox's real Prometheus over its HTTP API, at instants relative to the
scenario's `end` (the investigation's `as_of`), so tests read the backfilled history the way the
agent's metric tools do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from evals.durations import parse_duration


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range query: its labels and (unix seconds, value) points."""

    labels: dict[str, str]
    points: list[tuple[float, float]]

    @property
    def values(self) -> list[float]:
        return [v for _, v in self.points]


class PromQLError(AssertionError):
    """Prometheus refused the query (a bad query is a bug in the test, so it fails the test)."""


class PromQL:
    """Queries one Prometheus; `ago` is a duration string ("25m", "1h") counted back from `end`."""

    def __init__(self, url: str, end: datetime, timeout_s: float = 20.0) -> None:
        self.url = url
        self.end = end
        self.timeout_s = timeout_s

    def at(self, ago: str = "0s") -> datetime:
        return self.end - parse_duration(ago.removeprefix("-"))

    def _get(self, path: str, params: dict[str, str | float]) -> list[dict[str, Any]]:
        # trust_env=False: a developer's HTTP(S)_PROXY must not capture loopback traffic.
        with httpx.Client(base_url=self.url, timeout=self.timeout_s, trust_env=False) as client:
            response = client.get(path, params=params)
        body = response.json()
        if response.status_code != 200 or body.get("status") != "success":
            raise PromQLError(f"{params.get('query')!r}: {body.get('errorType')}: {body.get('error')}")
        data = body["data"]
        if data["resultType"] not in ("vector", "matrix"):
            raise PromQLError(f"{params.get('query')!r} gave a {data['resultType']}, not a vector")
        result: list[dict[str, Any]] = data["result"]  # Prometheus' JSON: metric, value(s)
        return result

    def instant(self, query: str, ago: str = "0s") -> list[Sample]:
        """The instant vector of `query` evaluated at `end - ago`."""
        result = self._get("/api/v1/query", {"query": query, "time": self.at(ago).timestamp()})
        return [Sample(dict(r["metric"]), float(r["value"][1])) for r in result]

    def by(self, query: str, label: str, ago: str = "0s") -> dict[str, float]:
        """`query`'s vector keyed by one label (which must tell its elements apart)."""
        samples = self.instant(query, ago)
        keyed = {s.labels.get(label, ""): s.value for s in samples}
        if len(keyed) != len(samples):
            raise PromQLError(f"{query!r}: label {label!r} does not tell the {len(samples)} results apart")
        return keyed

    def value(self, query: str, ago: str = "0s") -> float | None:
        """The single value of `query` at `end - ago`; None for an empty vector."""
        samples = self.instant(query, ago)
        if len(samples) > 1:
            raise PromQLError(f"{query!r}: {len(samples)} results where one was expected")
        return samples[0].value if samples else None

    def range(self, query: str, start_ago: str, end_ago: str = "0s", step: str = "1m") -> list[RangeSeries]:
        """`query` evaluated every `step` from `end - start_ago` to `end - end_ago`."""
        params: dict[str, str | float] = {
            "query": query,
            "start": self.at(start_ago).timestamp(),
            "end": self.at(end_ago).timestamp(),
            "step": parse_duration(step) / timedelta(seconds=1),
        }
        result = self._get("/api/v1/query_range", params)
        return [
            RangeSeries(dict(r["metric"]), [(float(t), float(v)) for t, v in r["values"]]) for r in result
        ]


# Standard queries (DESIGN §3.6 names), as an SRE would type them -----------------------------------

REQUESTS = "http_server_request_duration_seconds_count"


def error_ratio_by_service(selector: str = "", window: str = "5m") -> str:
    """5xx share of each service's requests; 0 (not absent) for a service that has no 5xx series."""
    extra = f",{selector}" if selector else ""
    failed = f'sum by (service) (rate({REQUESTS}{{http_response_status_code="500"{extra}}}[{window}]))'
    total = f"sum by (service) (rate({REQUESTS}{{{selector}}}[{window}]))"
    return f"({failed} or {total} * 0) / {total}"


def error_ratio_by_pod(service: str, window: str = "5m") -> str:
    sel = f'service="{service}"'
    failed = f'sum by (pod) (rate({REQUESTS}{{{sel},http_response_status_code="500"}}[{window}]))'
    total = f"sum by (pod) (rate({REQUESTS}{{{sel}}}[{window}]))"
    return f"({failed} or {total} * 0) / {total}"


def mean_latency(family: str, selector: str, by: str = "service", window: str = "5m") -> str:
    """Mean request duration (seconds) from a histogram's _sum and _count."""
    return (
        f"sum by ({by}) (rate({family}_sum{{{selector}}}[{window}])) / "
        f"sum by ({by}) (rate({family}_count{{{selector}}}[{window}]))"
    )


def throttled_ratio_by_service(window: str = "5m") -> str:
    """Share of CFS periods throttled, per service (the CPUThrottlingHigh alert's expression)."""
    return (
        f"sum by (service) (rate(container_cpu_cfs_throttled_periods_total[{window}])) / "
        f"sum by (service) (rate(container_cpu_cfs_periods_total[{window}]))"
    )


def cpu_cores_by_pod(selector: str, window: str = "5m") -> str:
    return f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{selector}}}[{window}]))"
