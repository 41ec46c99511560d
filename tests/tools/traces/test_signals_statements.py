"""Log statements per request: an exception thrown before a statement the operation always writes shows
in the share of its requests that wrote it, whatever the load; nothing read is not nothing written."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tools.traces.signal_shop import GRID, ONSET, STEP, T0, Hop, TraceBuilder, rows, shop
from tools.anomaly.rank import rank_root_causes
from tools.traces.backend import Span
from tools.traces.signals import trace_calls, trace_signals
from tools.traces.span_logs import SpanLogLine

ROW = ("checkout", "trace_log_statements:POST /checkout")


def written(
    spans: list[Span],
    *,
    throws_from: float = float("inf"),
    span_ids: bool = True,
    since: float = float("-inf"),
    until: float = float("inf"),
) -> list[SpanLogLine]:
    """What checkout's controller logs in each request, as Sleuth-style Java services write it: a start
    line, then (unless it threw before) the result line; lines up to `until` were collected."""
    lines = []
    for s in spans:
        if s.name != "CheckoutController.place" or not since <= s.start_ns / 1e9 < until:
            continue
        at, ids = s.start_ns / 1e9, f"TraceID: {s.trace_id} SpanID: {s.span_id}"
        span_id = s.span_id if span_ids else ""
        lines.append(
            SpanLogLine("checkout", at, f"INFO c.CheckoutController#40 {ids} [place][start]", span_id)
        )
        if at < throws_from:
            text = f"INFO c.CheckoutController#57 {ids} [place][order placed][total: {int(at) % 97}]"
            lines.append(SpanLogLine("checkout", at + 0.005, text, span_id))
    return lines


def test_a_statement_thrown_past_empties_the_share_of_requests_writing_it() -> None:
    spans, reference = shop(Hop()), shop(Hop(), minutes=5)
    matrix = trace_signals(
        spans,
        GRID,
        STEP,
        reference=reference,
        logs=written(spans, throws_from=ONSET),
        reference_logs=written(reference),
    )
    share = rows(matrix)[ROW]
    assert np.all(share[GRID < ONSET] == 1.0)
    assert np.all(share[GRID >= ONSET] == 0.0)  # the spans still arrive; the statement does not
    key = next(k for k in matrix.keys if (k.entity, k.signal) == ROW)
    assert (key.kind, key.noise, key.source) == ("other", "ratio", "traces")
    # the caller writes nothing: it has no such row, and its fan-out did not change
    assert not any(
        k.entity == "frontend" and k.signal.startswith("trace_log_statements") for k in matrix.keys
    )
    assert np.all(rows(matrix)["checkout", "trace_calls_to:payment"] == 1.0)


def test_the_thrower_is_ranked_first_although_the_line_rate_barely_moves() -> None:
    """Five requests a minute: the statement's rate falling from 5 a minute to 0 is about 2 Poisson
    sigmas; per request, every one of them stopped writing it."""
    builder = TraceBuilder()
    for t in np.arange(T0, T0 + 1800, 12.0):
        builder.checkout(float(t), Hop())
    spans = builder.spans
    matrix = trace_signals(spans, GRID, STEP, logs=written(spans, throws_from=ONSET))
    ranking = rank_root_causes(matrix, onset=ONSET, calls=trace_calls(spans))
    assert ranking.anomalous and ranking.candidates[0].entity == "checkout"
    assert ranking.candidates[0].evidence[0].signal == ROW[1]


def test_a_load_change_leaves_the_share_as_usual() -> None:
    builder = TraceBuilder()
    for t in np.arange(T0, T0 + 1800, 2.0):
        if t < ONSET or int(t) % 6 == 0:  # a third of the traffic from the onset
            builder.checkout(float(t), Hop())
    spans = builder.spans
    share = rows(trace_signals(spans, GRID, STEP, logs=written(spans)))[ROW]  # no reference: first half
    assert np.all(share == 1.0)


def test_lines_not_collected_or_naming_no_span_tell_nothing() -> None:
    spans, reference = shop(Hop()), shop(Hop(), minutes=5)
    stopped = trace_signals(
        spans,
        GRID,
        STEP,
        reference=reference,
        logs=written(spans, until=ONSET),
        reference_logs=written(reference),
    )
    share = rows(stopped)[ROW]
    assert np.all(share[GRID < ONSET - STEP] == 1.0)
    # its logs stopped being read: the last requests read stand for a while (pooled), then no value;
    # never a 0 as if the statement vanished
    after = share[GRID >= ONSET]
    assert np.all((after == 1.0) | np.isnan(after)) and np.all(np.isnan(share[GRID >= ONSET + 300]))
    anonymous = trace_signals(spans, GRID, STEP, logs=written(spans, span_ids=False))
    assert not any(k.signal.startswith("trace_log_statements") for k in anonymous.keys)
    plain = trace_signals(spans, GRID, STEP, reference=reference)
    assert not any(k.signal.startswith("trace_log_statements") for k in plain.keys)


@pytest.mark.parametrize("share_written", [0.5, 0.8])
def test_a_statement_written_only_sometimes_is_not_expected(share_written: float) -> None:
    """A statement behind a data-dependent branch (written in half the requests) is not one the
    operation always writes: its absence is no evidence."""
    spans = shop(Hop())
    lines = written(spans)
    placed = [line for line in lines if "order placed" in line.message]
    dropped = set(placed[:: round(1 / (1 - share_written))])
    matrix = trace_signals(spans, GRID, STEP, logs=[line for line in lines if line not in dropped])
    share = rows(matrix)[ROW]
    assert np.all(share == 1.0)  # only the start line is always written, and always is


def test_a_short_dip_before_the_onset_does_not_hide_the_fault() -> None:
    """Half a minute of thrown statements in the baseline (another fault's lead-in, or this one taking
    effect before its recorded time) is a burst of the baseline, not its everyday spread: judged as a
    gauge its standard deviation would shrink a fall from 1 to 0 to a few sigmas."""
    step = 15.0
    grid = T0 + step * np.arange(120)
    spans = shop(Hop())
    dip = {
        line for line in written(spans) if T0 + 600 <= line.time < T0 + 630 and "order placed" in line.message
    }
    lines = [line for line in written(spans, throws_from=ONSET) if line not in dip]
    matrix = trace_signals(spans, grid, step, logs=lines)
    assert np.nanmin(rows(matrix)[ROW][grid < ONSET]) == 0.0  # the dip is there
    ranking = rank_root_causes(matrix, onset=ONSET, calls=trace_calls(spans))
    assert ranking.anomalous and ranking.candidates[0].entity == "checkout"


def test_an_error_the_operation_never_logs_is_unusual_but_an_info_line_is_not() -> None:
    """An early return that says why (an ERROR the operation never wrote before) drops the share even
    though the usual statements are all still there; a new INFO line (a data-dependent branch) does not."""
    spans, reference = shop(Hop()), shop(Hop(), minutes=5)

    def extra(level: str) -> list[SpanLogLine]:
        added = [
            SpanLogLine(
                "checkout",
                s.start_ns / 1e9 + 0.002,
                f"{level} c.CheckoutService#88 TraceID: {s.trace_id} SpanID: {s.span_id} [place][No cart]",
                s.span_id,
            )
            for s in spans
            if s.name == "CheckoutController.place" and s.start_ns / 1e9 >= ONSET
        ]
        return written(spans) + added

    def share(level: str) -> np.ndarray:
        matrix = trace_signals(
            spans, GRID, STEP, reference=reference, logs=extra(level), reference_logs=written(reference)
        )
        return rows(matrix)[ROW]

    assert np.all(share("ERROR")[GRID >= ONSET] == 0.0)
    assert np.all(share("INFO") == 1.0)


def test_spans_kept_for_the_last_minutes_only_still_have_a_usual_to_compare_with() -> None:
    """A trace store that keeps 15 minutes (or a recording of them) under a 2-hour grid: the grid's first
    half holds no request, so what is usual is the earlier half of the requests read."""
    grid = ONSET - 6900 + STEP * np.arange(120)  # 2 hours ending 5 minutes after the onset
    builder = TraceBuilder()
    for t in np.arange(ONSET - 600, ONSET + 300, 12.0):  # 15 minutes of spans: the fault in the later half
        builder.checkout(float(t), Hop())
    spans = builder.spans
    share = rows(trace_signals(spans, grid, STEP, logs=written(spans, throws_from=ONSET)))[ROW]
    assert np.all(share[(grid >= ONSET - 240) & (grid < ONSET)] == 1.0)
    assert np.all(share[grid >= ONSET] == 0.0)


def test_logs_read_for_the_last_minutes_only_learn_what_is_usual_from_those_minutes() -> None:
    """A busy pod's log read from its tail covers its last 13 minutes of a 30-minute window of spans:
    what the operation always writes is learned from the earlier half of the requests whose logs were
    read, not from the earlier half of all requests (none of which were)."""
    since, throws = T0 + 17 * 60, T0 + 25 * 60
    builder = TraceBuilder()
    for t in np.arange(T0, T0 + 1800, 12.0):
        builder.checkout(float(t), Hop())
    spans = builder.spans
    lines = written(spans, since=since, throws_from=throws)
    grid = GRID
    share = rows(trace_signals(spans, grid, STEP, logs=lines))[ROW]
    assert np.all(share[(grid > since) & (grid < throws - STEP)] == 1.0)
    assert np.all(share[grid >= throws] == 0.0)
    assert np.all(np.isnan(share[grid < since - 300]))  # no lines read: no value, not a usual 1
