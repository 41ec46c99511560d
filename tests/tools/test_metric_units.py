"""Signal values as people read them: units, changes from a baseline, and sigmas bounded in display."""

from __future__ import annotations

import math

import pytest

from tools.metrics.units import describe_change, fmt_sigmas, fmt_value


@pytest.mark.parametrize(
    ("signal", "baseline", "value", "text"),
    [
        ("error_ratio", 0.0, 0.311, "error ratio 0 % → 31 %"),
        ("latency_p99", 0.195, 0.232, "p99 latency 195 ms → 232 ms, ×1.2 its baseline"),
        ("callers_latency_p99", 0.0497, 2.4514, "callers' p99 latency 50 ms → 2.5 s, ×49 its baseline"),
        ("memory_vs_limit", 0.55, 0.995, "memory 55 % → 100 % of limit, ×1.8 its baseline"),
        ("cpu_per_request", 0.0108, 0.0292, "CPU per request 11 ms → 29 ms CPU, ×2.7 its baseline"),
        ("failed_pods", 0.0, 4.0, "failed pods 0 → 4"),
        ("pressure", 0.0, 1.0, "pressure condition false → true"),
        ("cpu_throttling", 0.0, 0.0049, "CPU throttling 0 % → 0.49 %"),
        ("latency_p99", 0.2, 0.205, "p99 latency 200 ms → 205 ms"),  # under 10 %: no factor
        ("queue_depth", None, 7.0, "queue depth n/a → 7"),  # a signal with no known unit
    ],
)
def test_a_change_reads_in_the_signals_unit(
    signal: str, baseline: float | None, value: float, text: str
) -> None:
    assert describe_change(signal, baseline, value) == text


def test_values_in_each_unit() -> None:
    assert fmt_value(0.3, "ratio") == "30 %"
    assert fmt_value(0.243, "seconds") == "243 ms"
    assert fmt_value(58.38, "per_second") == "58 req/s"
    assert fmt_value(None, "ratio") == fmt_value(math.nan, "seconds") == "n/a"


@pytest.mark.parametrize(
    ("sigmas", "signed", "text"),
    [
        (47.2, False, "47σ"),
        (3.6, True, "+4σ"),
        (-18.4, True, "-18σ"),
        (99.4, False, "99σ"),
        (100.0, False, "≥ 100σ"),
        (66124.3, True, "≥ 100σ"),
        (-966.6, True, "≤ -100σ"),
        (math.inf, False, "≥ 100σ"),
    ],
)
def test_sigmas_are_bounded_in_display(sigmas: float, signed: bool, text: str) -> None:
    assert fmt_sigmas(sigmas, signed=signed) == text
