"""Log lines find the span they were written in: by the id the log store keeps, or the one the text
names, whatever the zero padding; lines naming no span join nothing."""

from __future__ import annotations

import pytest

from tools.logs.templates import TemplateMiner
from tools.traces.span_logs import (
    SpanLogLine,
    span_id_in,
    span_key,
    span_statements,
    with_span_ids,
)

TRACE = "b6a787e7e012bccec69372d757581aef"
SPAN = "501b606205ce49f9"


@pytest.mark.parametrize(
    "message",
    [
        f"18:11:32.395 INFO  v.c.VerifyCodeController#54 TraceID: {TRACE} SpanID: {SPAN} [verifyCode]",
        f'level=info msg="charged" trace_id={TRACE} span_id={SPAN}',
        f'{{"msg": "charged", "traceId": "{TRACE}", "spanId": "{SPAN.upper()}"}}',
        f"2024-01-01 INFO [checkout,{TRACE},{SPAN}] trace.id={TRACE} span.id={SPAN} placed",
    ],
)
def test_the_ids_a_line_names_are_read_after_their_words(message: str) -> None:
    assert span_id_in(message) == SPAN


def test_a_line_without_span_words_names_no_span() -> None:
    # an order id of 16 hex digits is not a span id: only a span-id word makes it one
    assert span_id_in(f"order {SPAN} paid by user {TRACE}") == ""
    assert span_id_in(f"SpanID: {SPAN}00") == ""  # 18 hex digits: not a span id


def test_padding_does_not_keep_a_line_from_its_span() -> None:
    assert span_key("00ab12") == span_key("AB12") == span_key("000000000000ab12")
    assert span_key("0000") == "0"


def test_statements_are_joined_per_span_and_coverage_is_per_service() -> None:
    miner = TemplateMiner()
    lines = [
        SpanLogLine("checkout", 100.0, f"INFO c.CheckoutController#40 SpanID: {SPAN} [place][start]", SPAN),
        SpanLogLine("checkout", 100.1, f"INFO c.CheckoutController#48 SpanID: {SPAN} [place][paid 12]", SPAN),
        SpanLogLine("checkout", 101.0, "INFO c.CheckoutController#48 SpanID: 00ab [place][paid 13]", "00ab"),
        SpanLogLine("checkout", 130.0, "INFO c.Scheduler#9 [cleanup] removed 3 carts", ""),  # no span
        SpanLogLine("payment", 105.0, "INFO p.PaymentService#7 [charge] ok", "abc"),
    ]
    said = span_statements(lines, miner)
    start, paid = miner.add("checkout", lines[0].message), miner.add("checkout", lines[1].message)
    assert said.by_span[span_key(SPAN)] == frozenset({start, paid})
    assert said.by_span[span_key("ab")] == frozenset({paid})  # the same statement, other values
    assert len(said.by_span) == 3  # the scheduler's line joined nothing
    assert said.covers("checkout", 130.0) and not said.covers(
        "checkout", 131.0
    )  # it still counts for coverage
    assert said.covers("payment", 105.0) and not said.covers("frontend", 105.0)


def test_pod_log_lines_get_the_span_their_text_names() -> None:
    lines = [
        ("checkout", 1.0, f"INFO TraceID: {TRACE} SpanID: {SPAN} placed"),
        ("checkout", 2.0, "INFO tick"),
    ]
    assert [line.span_id for line in with_span_ids(lines)] == [SPAN, ""]
