"""The Jaeger client against a loopback server answering in the query service's real JSON shapes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.tools.traces.loopback import closed_port_url, serve, silent_server
from tools.errors import BackendError, BackendTimeout, BadQuery
from tools.traces.backend import TraceQuery
from tools.traces.jaeger import JaegerBackend

T0_US = 1_714_564_800_000_000  # 2024-05-01T12:00:00Z
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TID = "0af7651916cd43dd"  # a 64-bit id, as Jaeger prints ids that fit in 64 bits


def _tag(key: str, value: object, kind: str = "string") -> dict[str, object]:
    return {"key": key, "type": kind, "value": value}


# The shape of GET /api/traces/{id} from jaeger-query (HotROD-like), including fields we do not use.
JAEGER_TRACE = {
    "traceID": TID,
    "spans": [
        {
            "traceID": TID,
            "spanID": "0af7651916cd43dd",
            "flags": 1,
            "operationName": "HTTP GET /dispatch",
            "references": [],
            "startTime": T0_US,
            "duration": 731_000,
            "tags": [_tag("span.kind", "server"), _tag("http.status_code", 200, "int64")],
            "logs": [],
            "processID": "p1",
            "warnings": None,
        },
        {
            "traceID": TID,
            "spanID": "1b2c3d4e5f607182",
            "flags": 1,
            "operationName": "HTTP GET /customer",
            "references": [{"refType": "CHILD_OF", "traceID": TID, "spanID": "0af7651916cd43dd"}],
            "startTime": T0_US + 1_000,
            "duration": 300_000,
            "tags": [_tag("span.kind", "client")],
            "logs": [],
            "processID": "p1",
            "warnings": None,
        },
        {
            "traceID": TID,
            "spanID": "2c3d4e5f60718293",
            "flags": 1,
            "operationName": "HTTP GET /customer",
            "references": [{"refType": "CHILD_OF", "traceID": TID, "spanID": "1b2c3d4e5f607182"}],
            "startTime": T0_US + 1_500,
            "duration": 299_000,
            "tags": [_tag("span.kind", "server")],
            "logs": [],
            "processID": "p2",
            "warnings": None,
        },
        {
            "traceID": TID,
            "spanID": "3d4e5f60718293a4",
            "flags": 1,
            "operationName": "SQL SELECT",
            "references": [{"refType": "CHILD_OF", "traceID": TID, "spanID": "2c3d4e5f60718293"}],
            "startTime": T0_US + 2_000,
            "duration": 290_000,
            "tags": [
                _tag("span.kind", "client"),
                _tag("peer.service", "mysql"),
                _tag("error", True, "bool"),
                _tag("sql.query", "SELECT * FROM customer WHERE customer_id=123"),
            ],
            "logs": [{"timestamp": T0_US + 291_000, "fields": [_tag("event", "error")]}],
            "processID": "p2",
            "warnings": None,
        },
    ],
    "processes": {
        "p1": {"serviceName": "frontend", "tags": [_tag("hostname", "frontend-7d9c")]},
        "p2": {"serviceName": "customer", "tags": [_tag("hostname", "customer-5f8b")]},
    },
    "warnings": None,
}


def _envelope(data: object, errors: object = None) -> dict[str, object]:
    return {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": errors}


def jaeger_route(path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, object]:
    if path == "/api/services":
        return 200, _envelope(["customer", "frontend"])
    if path == "/api/traces":
        if "service" not in params:
            return 400, _envelope(None, [{"code": 400, "msg": "parameter 'service' is required"}])
        services = {"frontend", "customer"}  # the processes of JAEGER_TRACE
        in_window = int(params["start"]) <= T0_US < int(params["end"])
        return 200, _envelope([JAEGER_TRACE] if params["service"] in services and in_window else [])
    if path in (f"/api/traces/{TID}", f"/api/traces/{TID.zfill(32)}"):
        return 200, _envelope([JAEGER_TRACE])
    return 404, _envelope(None, [{"code": 404, "msg": "trace not found"}])


def test_decodes_jaeger_spans_services_parents_kinds_and_errors() -> None:
    with serve(jaeger_route) as (url, _):
        backend = JaegerBackend(url, timeout_s=5)
        assert backend.services() == ["customer", "frontend"]
        trace = backend.get_trace(TID.zfill(32))
    assert trace is not None
    assert trace.trace_id == TID.zfill(32)
    by_name = {(s.service, s.name, s.kind): s for s in trace.spans}
    root = by_name[("frontend", "HTTP GET /dispatch", "server")]
    assert root is trace.root and root.parent_span_id is None
    assert (root.start_ns, root.duration_ms) == (T0_US * 1000, 731.0)
    sql = by_name[("customer", "SQL SELECT", "client")]
    assert sql.error and sql.parent_span_id == "2c3d4e5f60718293"
    assert sql.attributes["peer.service"] == "mysql"
    assert not any(s.error for s in trace.spans if s is not sql)


def test_search_sends_jaeger_parameters_and_filters_exactly() -> None:
    with serve(jaeger_route) as (url, recorded):
        backend = JaegerBackend(url, timeout_s=5)
        query = TraceQuery(
            service="customer",
            start=T0 - timedelta(minutes=5),
            end=T0 + timedelta(minutes=5),
            min_duration_ms=250,
            errors_only=True,
            limit=7,
        )
        assert [t.trace_id for t in backend.search(query)] == [TID.zfill(32)]
        _, params, _ = recorded.requests[-1]
        assert params == {
            "service": "customer",
            "start": str(T0_US - 300_000_000),
            "end": str(T0_US + 300_000_000),
            "limit": "7",
            "minDuration": "250000us",
            "tags": json.dumps({"error": "true"}),
        }
        # Jaeger's answer is re-checked: no customer span lasts 400 ms
        assert backend.search(query.model_copy(update={"min_duration_ms": 400})) == []
        # no service: Jaeger needs one, so each service is asked in turn; the trace is listed once
        everything = backend.search(TraceQuery(start=T0, end=T0 + timedelta(minutes=1)))
        assert [t.trace_id for t in everything] == [TID.zfill(32)]
        assert backend.get_trace("ffff") is None


def test_jaeger_errors_are_mapped() -> None:
    def broken(path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, object]:
        if path == "/api/services":
            return 500, {"error": "storage unavailable"}
        return 400, _envelope(None, [{"code": 400, "msg": "unable to parse param 'minDuration'"}])

    with serve(broken) as (url, _):
        backend = JaegerBackend(url, timeout_s=5)
        with pytest.raises(BackendError, match="HTTP 500"):
            backend.services()
        with pytest.raises(BadQuery, match="minDuration"):
            backend.search(TraceQuery(service="x", start=T0, end=T0 + timedelta(minutes=1)))


def test_a_jaeger_that_is_down_or_hung_fails_within_the_timeout() -> None:
    with pytest.raises(BackendError, match="ConnectError"):
        JaegerBackend(closed_port_url(), timeout_s=2).services()
    with silent_server() as url:
        began = time.monotonic()
        with pytest.raises(BackendTimeout, match=r"no answer within 0\.3s"):
            JaegerBackend(url, timeout_s=0.3).services()
        assert time.monotonic() - began < 2.0


def test_a_non_json_answer_is_a_backend_error() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(BackendError, match="not JSON"):
        JaegerBackend("http://jaeger.invalid", timeout_s=1, transport=transport).services()
