"""Trace rows move where a fault is, and only there: a slow callee, a network delay, an early return,
an error burst, a new request path; each judged on the rows a person would check by hand."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tools.traces.signal_shop import GRID, ONSET, STEP, T0, Hop, TraceBuilder, change, rows, shop
from tools.traces.signals import trace_calls, trace_signals, unseen_patterns


def test_a_slow_callee_raises_its_own_and_its_callers_response_time_but_not_the_callers_self_time() -> None:
    matrix = trace_signals(shop(Hop(), Hop(pay_ms=200.0)), GRID, STEP)
    r = rows(matrix)
    assert change(r["payment", "trace_latency_p90"]) == pytest.approx(10, rel=0.1)
    assert change(r["payment", "trace_self_time_p50"]) == pytest.approx(10, rel=0.1)
    assert change(r["payment", "trace_callers_latency_p90"]) == pytest.approx(202 / 22, rel=0.1)
    assert change(r["checkout", "trace_latency_p90"]) > 5
    assert change(r["frontend", "trace_latency_p90"]) > 5
    # checkout waited longer, but its own code did the same 10 ms of work per request
    assert change(r["checkout", "trace_self_time_p50"]) == pytest.approx(1.0, abs=0.02)
    assert np.nanmedian(r["checkout", "trace_self_time_p50"]) == pytest.approx(10.0, abs=0.1)
    assert change(r["frontend", "trace_self_time_p50"]) == pytest.approx(1.0, abs=0.02)
    kinds = {(k.entity, k.signal): (k.kind, k.noise, k.source) for k in matrix.keys}
    assert kinds["payment", "trace_self_time_p50"] == ("resource", "relative", "traces")
    assert kinds["payment", "trace_callers_latency_p90"] == ("latency", "relative", "traces")


def test_a_network_delay_shows_in_the_time_callers_waited_and_not_in_the_callees_own() -> None:
    r = rows(trace_signals(shop(Hop(), Hop(pay_net_ms=40.0)), GRID, STEP))
    assert change(r["payment", "trace_callers_latency_p90"]) == pytest.approx(100 / 22, rel=0.05)
    assert change(r["payment", "trace_latency_p90"]) == pytest.approx(1.0, abs=0.02)
    assert change(r["payment", "trace_self_time_p50"]) == pytest.approx(1.0, abs=0.02)
    assert change(r["checkout", "trace_latency_p90"]) > 2  # it waited, too
    assert change(r["checkout", "trace_self_time_p50"]) == pytest.approx(1.0, abs=0.02)


def test_an_early_return_drops_the_fan_out_edge_and_starves_the_callee() -> None:
    spans = shop(Hop(), Hop(pays=False))
    r = rows(trace_signals(spans, GRID, STEP, reference=shop(Hop(), minutes=5)))
    calls = r["checkout", "trace_calls_to:payment"]
    assert np.all(calls[GRID < ONSET] == 1.0)  # as usual
    assert np.all(calls[GRID >= ONSET] == 0.0)  # vanished
    # without a reference the first half of the window is what is usual (over the whole window,
    # paying in 2 requests of 3 would not be "always", and the row would vanish with the fault)
    alone = rows(trace_signals(spans, GRID, STEP))["checkout", "trace_calls_to:payment"]
    assert np.array_equal(alone, calls)
    served = r["payment", "trace_requests"]
    assert served[GRID < ONSET] == pytest.approx(np.full(20, 30.0))  # a checkout every 2 s
    assert np.all(served[GRID >= ONSET] == 0.0)  # spans were seen: the callee really got nothing
    assert np.all(np.isnan(r["payment", "trace_latency_p90"][GRID >= ONSET + 300]))  # nothing to time


def test_fan_out_is_judged_per_operation_so_a_change_of_mix_is_not_a_fault() -> None:
    """Checkout serves two operations; one pays, the other does not. The mix turns from 4:1 to 1:4."""
    builder = TraceBuilder()
    status = Hop(pays=False, operation="GET /checkout/status")
    for i, t in enumerate(np.arange(T0, T0 + 1800, 2.0)):
        paying = i % 5 != 0 if t < ONSET else i % 5 == 0
        builder.checkout(float(t), Hop() if paying else status)
    r = rows(trace_signals(builder.spans, GRID, STEP))
    assert np.all(r["checkout", "trace_calls_to:payment"] == 1.0)
    assert change(r["payment", "trace_requests"]) == pytest.approx(0.25)  # traffic does follow the mix


def test_error_rows_come_from_span_status_and_only_when_the_data_carries_status() -> None:
    failing = rows(trace_signals(shop(Hop(), Hop(error=True)), GRID, STEP))
    ratio = failing["checkout", "trace_error_ratio"]
    assert np.all(ratio[GRID < ONSET] == 0.0) and np.all(ratio[GRID >= ONSET] == 1.0)
    assert np.all(failing["payment", "trace_error_ratio"] == 0.0)
    statusless = rows(trace_signals(shop(Hop()), GRID, STEP))
    assert not [key for key in statusless if key[1] == "trace_error_ratio"]


def test_a_new_request_path_is_counted_against_the_fault_free_reference() -> None:
    reference = shop(Hop(), minutes=5)
    spans = shop(Hop(), Hop(extra_callee="fraud"))
    matrix = trace_signals(spans, GRID, STEP, reference=reference)
    r = rows(matrix)
    unseen = r["checkout", "trace_unseen_patterns"]
    assert np.all(unseen[GRID < ONSET] == 0.0)
    assert np.all(unseen[GRID >= ONSET] == 30.0)  # every request of the minute took the new path
    assert np.all(r["payment", "trace_unseen_patterns"] == 0.0)
    assert ("fraud", "trace_unseen_patterns") not in r  # absent from the reference: cannot be judged
    assert ("checkout", "trace_calls_to:fraud") not in r  # a new callee is a new pattern, not fan-out
    assert {k.detail for k in matrix.keys if k.signal == "trace_unseen_patterns"} == {
        f"requests of {s} per 60 s whose pattern (operation, local operations, calls) never appears in "
        "the fault-free reference"
        for s in ("checkout", "frontend", "payment")
    }  # fixed text: a reference day's row matches it
    (described, count), *_ = unseen_patterns(spans, reference)["checkout"]
    assert count == 300
    assert "POST /checkout" in described and "fraud GET /check" in described
    assert "trace_unseen_patterns" not in {k.signal for k in trace_signals(spans, GRID, STEP).keys}


def test_call_graph_comes_from_the_dependency_graph() -> None:
    assert trace_calls(shop(Hop(extra_callee="fraud"), minutes=1)) == {
        "checkout": ["fraud", "payment"],
        "frontend": ["checkout"],
    }
    assert trace_calls(shop(Hop(), minutes=1), service_of=lambda s: s.service.upper()) == {
        "CHECKOUT": ["PAYMENT"],
        "FRONTEND": ["CHECKOUT"],
    }


def test_a_minute_without_any_span_is_no_data_in_every_row_not_zero_traffic() -> None:
    spans = [s for s in shop(Hop()) if not T0 + 600 <= s.start_ns / 1e9 < T0 + 780]
    matrix = trace_signals(spans, GRID, STEP)
    gap = (GRID >= T0 + 600) & (GRID < T0 + 780)
    assert np.all(np.isnan(matrix.values[:, gap]))
    assert not np.isnan(rows(matrix)["payment", "trace_requests"][~gap]).any()


def test_service_of_maps_pods_to_services_and_a_grid_outside_the_spans_gives_no_rows() -> None:
    builder = TraceBuilder()
    builder.checkout(T0 + 5, Hop())
    pods = [s.model_copy(update={"service": f"{s.service}-7d9f8c-x2x9z"}) for s in builder.spans]
    matrix = trace_signals(pods, GRID, STEP, service_of=lambda s: s.service.rsplit("-", 2)[0])
    assert {k.entity for k in matrix.keys} == {"frontend", "checkout", "payment"}
    assert trace_signals(pods, GRID + 86_400, STEP).values.shape == (0, GRID.size)
