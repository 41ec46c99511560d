"""Log rows on the ranking's grid, judged by the real ranking, from real-shaped Spring Boot lines."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import numpy as np
import pytest

from tools.anomaly.incident_rank import rank_incident
from tools.anomaly.rank import SignalMatrix
from tools.logs.signals import LogLine, log_signals, log_signals_with_reference

T0 = 1_700_000_000.0
STEP = 15.0
TIMES = T0 + STEP * np.arange(160)  # 40 minutes
ONSET = T0 + 30 * 60
END = float(TIMES[-1] + STEP)
RNG_SEED = 11

Make = Callable[[np.random.Generator], str]


def _hex(rng: np.random.Generator, n: int = 32) -> str:
    return "".join(rng.choice(list("0123456789abcdef"), n))


def _id(rng: np.random.Generator) -> str:
    return str(uuid.UUID(int=int(rng.integers(0, 2**63))))


def placed(rng: np.random.Generator) -> str:
    return (
        f"INFO  c.s.CheckoutServiceImpl#51 TraceID: {_hex(rng)} SpanID: {_hex(rng, 16)} "
        f"[placeOrder][order {_id(rng)} placed in {int(rng.integers(5, 90))}ms]"
    )


def payment_failed(rng: np.random.Generator) -> str:
    return (
        f"ERROR c.s.CheckoutServiceImpl#88 TraceID: {_hex(rng)} SpanID: {_hex(rng, 16)} "
        f"[placeOrder][payment for order {_id(rng)} failed: Read timed out after {int(rng.integers(900, 3000))}ms]"
    )


def cart_read(rng: np.random.Generator) -> str:
    return f"INFO  c.c.CartController#20 TraceID: {_hex(rng)} [getCart][cart of user {_id(rng)} has {int(rng.integers(0, 9))} items]"


def cart_saved(rng: np.random.Generator) -> str:
    return f"INFO  c.s.CartServiceImpl#77 TraceID: {_hex(rng)} [saveCart][saved {int(rng.integers(1, 9))} items for {_id(rng)}]"


def route_one(rng: np.random.Generator) -> str:
    return f"INFO  r.c.RouteController#47 TraceID: {_hex(rng)} [getRouteById][Query route by id][RouteId: {_id(rng)}]"


def route_many(rng: np.random.Generator) -> str:
    ids = ", ".join(_id(rng) for _ in range(int(rng.integers(2, 6))))
    return f"INFO  r.c.RouteController#53 TraceID: {_hex(rng)} [getRoutesByIds][Query routes by ids][RouteIds: [{ids}]]"


def stream(
    rng: np.random.Generator, entity: str, make: Make, per_min: float, start: float, end: float
) -> list[LogLine]:
    """Poisson arrivals of one statement between `start` and `end`."""
    n = int(rng.poisson(per_min * (end - start) / 60))
    return [LogLine(entity, float(t), make(rng)) for t in np.sort(rng.uniform(start, end, n))]


def frames(line: LogLine) -> list[LogLine]:
    """The stack trace a Spring service prints under an error line, one runtime line per row."""
    rows = [
        "java.net.SocketTimeoutException: Read timed out",
        "\tat java.base/java.net.SocketInputStream.read(SocketInputStream.java:168)",
        "\tat com.shop.payment.PaymentClient.charge(PaymentClient.java:88)",
        "Caused by: java.io.IOException: connection reset",
        "\t... 42 more",
    ]
    return [line, *(LogLine(line.entity, line.time, row) for row in rows)]


def row(matrix: SignalMatrix, entity: str, signal: str, detail_has: str = "") -> np.ndarray:
    found = [
        i
        for i, k in enumerate(matrix.keys)
        if k.entity == entity and k.signal == signal and detail_has in k.detail
    ]
    assert len(found) == 1, [(k.entity, k.signal, k.detail) for k in matrix.keys]
    return matrix.values[found[0]]


def steady_cart(rng: np.random.Generator, doubled_at: float | None = None) -> list[LogLine]:
    """Two cart statements in a fixed 3:1 mix; from `doubled_at` on, twice the traffic."""
    cut = doubled_at or END
    lines = stream(rng, "cart", cart_read, 60, T0, cut) + stream(rng, "cart", cart_saved, 20, T0, cut)
    if doubled_at is not None:
        lines += stream(rng, "cart", cart_read, 120, cut, END) + stream(rng, "cart", cart_saved, 40, cut, END)
    return lines


def test_a_new_error_template_makes_its_service_jump_while_a_busier_one_stays_flat() -> None:
    rng = np.random.default_rng(RNG_SEED)
    errors = stream(rng, "checkout", payment_failed, 20, ONSET, END)
    lines = stream(rng, "checkout", placed, 30, T0, END) + steady_cart(rng, doubled_at=ONSET)
    lines += [row_ for line in errors for row_ in frames(line)]

    matrix = log_signals(lines, TIMES, STEP)
    ranking = rank_incident(matrix, {}, latest=END, onset=ONSET)

    top = ranking.candidates[0]
    assert top.entity == "checkout" and ranking.anomalous
    assert top.evidence[0].signal in {"log_errors", "log_new_errors"}
    assert "payment for order <UUID> failed" in top.evidence[0].detail
    new = row(matrix, "checkout", "log_new_errors")
    assert np.nanmax(new[TIMES < ONSET]) == 0 and np.nanmedian(new[TIMES >= ONSET + 60]) >= 12
    # cart's traffic doubled at the onset: its rows are load-adjusted and stay within noise
    cart = next(c for c in ranking.candidates if c.entity == "cart")
    assert cart.score < ranking.threshold / 2, cart.evidence


def test_a_stack_trace_counts_once() -> None:
    # one payment failure every 5 s after the onset, each with its 5-line stack trace
    errors = [
        LogLine("checkout", ONSET + 5 * i + 1, payment_failed(np.random.default_rng(i))) for i in range(120)
    ]
    lines = [row_ for line in errors for row_ in frames(line)]
    lines += [LogLine("checkout", T0 + 10 * i, placed(np.random.default_rng(i))) for i in range(240)]
    errors_row = row(log_signals(lines, TIMES, STEP), "checkout", "log_errors")
    assert errors_row[(TIMES >= ONSET + 60) & (TIMES < ONSET + 600)].tolist() == [12.0] * 36


def test_a_vanished_statement_points_at_its_service_not_at_a_busier_one() -> None:
    rng = np.random.default_rng(RNG_SEED)
    lines = stream(rng, "route", route_one, 100, T0, END) + stream(rng, "route", route_many, 100, T0, ONSET)
    lines += steady_cart(rng, doubled_at=ONSET)

    matrix = log_signals(lines, TIMES, STEP)
    ranking = rank_incident(matrix, {}, latest=END, onset=ONSET)

    assert ranking.entities[0] == "route"
    # with two statements, one vanishing and the other's share doubling are one change, seen twice
    gone = [e for e in ranking.candidates[0].evidence if "getRoutesByIds" in e.detail]
    # a statement at λ per minute that stops is √λ sigmas under the count floor: about 10 here
    assert gone and gone[0].signal == "log_template" and gone[0].sigmas < -8
    assert gone[0].kind == "other"  # a statement of its own: not explained away by a callee
    vanished = row(matrix, "route", "log_template", "getRoutesByIds")
    assert 80 < np.nanmedian(vanished[TIMES < ONSET]) < 120
    assert np.nanmax(vanished[TIMES >= ONSET + 60]) == 0
    # lines of the statement with lists of 2 to 5 ids are one template (one row), not four
    assert sum(1 for k in matrix.keys if "getRoutesByIds" in k.detail) == 1


def test_a_healthy_window_says_nothing() -> None:
    rng = np.random.default_rng(RNG_SEED + 1)
    lines = (
        stream(rng, "checkout", placed, 30, T0, END)
        + steady_cart(rng)
        + stream(rng, "route", route_one, 40, T0, END)
        + stream(rng, "route", route_many, 40, T0, END)
    )
    ranking = rank_incident(log_signals(lines, TIMES, STEP), {}, latest=END, onset=ONSET)
    assert not ranking.anomalous, ranking.candidates[0]


def test_secrets_never_reach_a_row() -> None:
    lines = [
        LogLine(
            "billing",
            T0 + 10 * i,
            f"ERROR c.DbClient#12 connect to postgres://app:hunter2@db:5432/{i} "
            f"failed password=hunter2 token=tok_{i:04d}abcdefabcdef",
        )
        for i in range(200)
    ]
    lines += [
        LogLine("billing", T0 + 7 * i, f"WARN c.Auth#7 rejected Authorization: Bearer sk-{i:020d}")
        for i in range(300)
    ]
    keys = log_signals(lines, TIMES, STEP).keys
    shown = " ".join(k.detail for k in keys)
    assert shown and "[REDACTED]" in shown
    assert "hunter2" not in shown and "abcdefabcdef" not in shown and "sk-0" not in shown


def test_windows_that_were_not_read_are_missing_not_quiet() -> None:
    rng = np.random.default_rng(RNG_SEED)
    first, last = T0 + 300, T0 + 1800  # the span the logs were read over
    lines = stream(rng, "checkout", placed, 30, first, last) + stream(rng, "cart", cart_read, 60, first, last)
    lines += [LogLine("cart", first, cart_read(rng)), LogLine("cart", last, cart_read(rng))]
    matrix = log_signals(lines, TIMES, STEP, covered_from={"cart": T0 + 900})  # cart's tail was cut

    errors = row(matrix, "checkout", "log_errors")
    read = ~np.isnan(errors)
    # a point needs its whole minute inside the span: NaN before and after, 0 (quiet) inside
    assert TIMES[read].min() == pytest.approx(first + 60 - STEP, abs=STEP)
    assert TIMES[read].max() == pytest.approx(last, abs=STEP) and np.all(errors[read] == 0)
    cart = row(matrix, "cart", "log_errors")
    assert TIMES[~np.isnan(cart)].min() == pytest.approx(T0 + 900 + 60 - STEP, abs=STEP)


def test_a_template_of_the_reference_is_not_new_and_the_reference_gets_the_same_rows() -> None:
    rng = np.random.default_rng(RNG_SEED)
    day_before = [
        LogLine(e, t - 86_400, m) for e, t, m in stream(rng, "checkout", payment_failed, 2, T0, END)
    ]
    day_before += [LogLine(e, t - 86_400, m) for e, t, m in stream(rng, "checkout", placed, 30, T0, END)]
    lines = stream(rng, "checkout", placed, 30, T0, END) + stream(
        rng, "checkout", payment_failed, 20, ONSET, END
    )

    matrix, reference = log_signals_with_reference(lines, TIMES, STEP, day_before, TIMES - 86_400)

    assert np.nanmax(row(matrix, "checkout", "log_new_errors")) == 0  # the reference had it
    assert np.nanmax(row(matrix, "checkout", "log_errors")) >= 12
    assert reference is not None and list(reference.keys) == list(matrix.keys)
    assert 0 < np.nanmax(row(reference, "checkout", "log_errors")) < 10
    # a template's share is shown at the incident's volume in both, so they compare share for share
    usual, then = row(reference, "checkout", "log_template"), row(matrix, "checkout", "log_template")
    assert np.nanmedian(usual) == pytest.approx(np.nanmedian(then[TIMES < ONSET]), rel=0.15)
