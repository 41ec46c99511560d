"""The metrics backend Protocol and its implementation on prometheus-api-client.

Every request leaves through `PrometheusBackend._call`, which maps failures once (DESIGN, style §4):

    HTTP 400/422 (bad_data, execution)       -> BadQuery, with Prometheus's own error message
    HTTP 503 (query timeout/cancel), read or
    connect timeout                          -> BackendTimeout
    connection refused, other HTTP status,
    an answer that is not Prometheus JSON    -> BackendError

No retries (a retry ladder would multiply the configured timeout), and the timeout is both sent to
Prometheus (`timeout=` query parameter, so it stops evaluating) and applied to the socket. A failure
that is not the query's fault names the URL and the setting to check (`SETTING`), since the message
ends up in the report's missing evidence and a person acts on it.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from pydantic import BaseModel, ConfigDict
from urllib3.util.retry import Retry

from tools.errors import BackendError, BackendTimeout, BadQuery

T = TypeVar("T")
SETTING = "MEDIC_PROMETHEUS_URL"


class InstantSeries(BaseModel):
    """One series of an instant vector (a scalar result has empty labels)."""

    model_config = ConfigDict(frozen=True)

    labels: dict[str, str]
    value: float


class RangeSeries(BaseModel):
    """One series of a range result: (unix seconds, value) points in time order."""

    model_config = ConfigDict(frozen=True)

    labels: dict[str, str]
    points: list[tuple[float, float]]


class ApiAlert(BaseModel):
    """An alert as Prometheus's rule manager holds it now (/api/v1/alerts)."""

    model_config = ConfigDict(frozen=True)

    labels: dict[str, str]
    annotations: dict[str, str]
    state: str
    active_at: datetime | None = None
    value: str | None = None


@runtime_checkable
class MetricsBackend(Protocol):
    """A Prometheus-compatible query API. Implementations raise the `tools.errors` types, never hang."""

    def instant(self, promql: str, at: datetime) -> list[InstantSeries]:
        """Evaluate `promql` at `at`."""
        ...

    def range(self, promql: str, start: datetime, end: datetime, step_s: float) -> list[RangeSeries]:
        """Evaluate `promql` over [start, end] every `step_s` seconds."""
        ...

    def label_values(
        self, label: str, start: datetime, end: datetime, match: Sequence[str] = ()
    ) -> list[str]:
        """Values of `label` on series present in [start, end] (optionally only series matching `match`)."""
        ...

    def series(self, match: Sequence[str], start: datetime, end: datetime) -> list[dict[str, str]]:
        """Label sets of the series matching `match` present in [start, end]."""
        ...

    def alerts(self) -> list[ApiAlert]:
        """Alerts pending or firing in the rule manager right now."""
        ...


_STATUS_BODY = re.compile(r"^HTTP Status Code (\d+) \((b['\"].*['\"])\)$", re.DOTALL)


def _parse_client_error(exc: PrometheusApiClientException) -> tuple[int, str]:
    """prometheus-api-client folds status and body into its message; take them back out."""
    match = _STATUS_BODY.match(str(exc))
    if not match:
        return 0, str(exc)
    status = int(match.group(1))
    try:
        body = json.loads(ast.literal_eval(match.group(2)))
        return status, f"{body.get('errorType', 'error')}: {body.get('error', body)}"
    except (ValueError, SyntaxError, AttributeError):
        return status, match.group(2)[:300]


def _is_timeout(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (requests.Timeout, TimeoutError)) or "timed out" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_refused(exc: BaseException) -> bool:
    """Whether a ConnectionRefusedError is somewhere in the chain (urllib3 keeps it in `.reason`)."""
    stack: list[BaseException] = [exc]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        reason = getattr(current, "reason", None)
        stack += [e for e in (current.__cause__, current.__context__, reason) if isinstance(e, BaseException)]
    return False


def _to_float(raw: object) -> float:
    try:
        return float(str(raw))
    except ValueError as exc:
        raise BackendError(f"Prometheus returned a non-numeric sample value {raw!r}") from exc


class PrometheusBackend:
    """MetricsBackend over HTTP with prometheus-api-client, one session, bounded by `timeout_s`."""

    def __init__(self, url: str, timeout_s: float, session: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._session = session or requests.Session()
        self._client = PrometheusConnect(
            url=self.url, session=self._session, timeout=timeout_s, retry=Retry(total=0, redirect=0)
        )

    def close(self) -> None:
        self._session.close()

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except PrometheusApiClientException as exc:
            status, message = _parse_client_error(exc)
            if status in (400, 422):
                raise BadQuery(f"Prometheus refused the query: {message}") from exc
            if status == 503:
                raise BackendTimeout(  # its own query timeout, or a server starting or shutting down
                    f"Prometheus at {self.url} gave up on {what} ({message}): it timed out or is not "
                    f"ready; check the server {SETTING} names"
                ) from exc
            raise BackendError(
                f"Prometheus at {self.url} failed {what} with HTTP {status}: {message} "
                f"(is {SETTING} the Prometheus API?)"
            ) from exc
        except requests.RequestException as exc:
            if _is_timeout(exc):
                raise BackendTimeout(
                    f"Prometheus at {self.url} did not answer {what} within {self.timeout_s}s "
                    f"(check {SETTING} and MEDIC_TIMEOUT_S)"
                ) from exc
            why = "it refused the connection" if _is_refused(exc) else type(exc).__name__
            raise BackendError(
                f"Prometheus at {self.url} is unreachable ({why}) for {what}: check {SETTING}"
            ) from exc
        except (ValueError, KeyError, TypeError) as exc:  # non-JSON or unexpected JSON
            raise BackendError(
                f"Prometheus at {self.url} answered {what} with something that is not its API format "
                f"(is {SETTING} the Prometheus API?)"
            ) from exc

    def _timeout_param(self) -> dict[str, str]:
        return {"timeout": f"{self.timeout_s:g}s"}

    def instant(self, promql: str, at: datetime) -> list[InstantSeries]:
        params = {"time": f"{at.timestamp():.3f}", **self._timeout_param()}
        result = self._call("an instant query", lambda: self._client.custom_query(promql, params=params))
        if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):
            return [InstantSeries(labels={}, value=_to_float(result[1]))]  # scalar: [ts, "v"]
        if isinstance(result, list):
            return [
                InstantSeries(labels=dict(r.get("metric", {})), value=_to_float(r["value"][1]))
                for r in result
                if "value" in r
            ]
        raise BackendError("Prometheus returned an instant result of an unexpected type")

    def range(self, promql: str, start: datetime, end: datetime, step_s: float) -> list[RangeSeries]:
        def run() -> list[RangeSeries]:
            rows = self._client.custom_query_range(
                promql, start_time=start, end_time=end, step=f"{step_s:g}", params=self._timeout_param()
            )
            return [
                RangeSeries(
                    labels=dict(r.get("metric", {})),
                    points=[(float(ts), _to_float(v)) for ts, v in r.get("values", [])],
                )
                for r in rows
            ]

        return self._call("a range query", run)

    def label_values(
        self, label: str, start: datetime, end: datetime, match: Sequence[str] = ()
    ) -> list[str]:
        params: dict[str, object] = {"start": f"{start.timestamp():.3f}", "end": f"{end.timestamp():.3f}"}
        if match:
            params["match[]"] = list(match)
        values = self._call(
            "a label-values query", lambda: self._client.get_label_values(label, params=params)
        )
        return sorted(str(v) for v in values)

    def series(self, match: Sequence[str], start: datetime, end: datetime) -> list[dict[str, str]]:
        params = {"match[]": list(match)}
        rows = self._call("a series query", lambda: self._client.get_series(start, end, params=params))
        return [{str(k): str(v) for k, v in row.items()} for row in rows]

    def alerts(self) -> list[ApiAlert]:
        def run() -> list[ApiAlert]:
            response = self._session.get(f"{self.url}/api/v1/alerts", timeout=self.timeout_s)
            if response.status_code != 200:
                raise BackendError(
                    f"Prometheus at {self.url} answered /api/v1/alerts with HTTP {response.status_code} "
                    f"(is {SETTING} the Prometheus API?)"
                )
            return [
                ApiAlert(
                    labels=a.get("labels", {}),
                    annotations=a.get("annotations", {}),
                    state=a.get("state", "unknown"),
                    active_at=a.get("activeAt"),
                    value=a.get("value"),
                )
                for a in response.json()["data"]["alerts"]
            ]

        return self._call("an alerts query", run)
