"""How a metric signal reads for people: its unit, its name in words, a value in that unit, a change
from a baseline ("error ratio 0 % → 31 %", "p99 latency 195 ms → 232 ms, ×1.2 its baseline") and a
robust-sigma score shown as a secondary, bounded number ("≥ 100σ" rather than 966σ: past that point
the exact figure says nothing more than "far outside its usual range").

Tools put the unit in their structured data; reports and summaries format with these helpers, so the
same value reads the same everywhere.
"""

from __future__ import annotations

import math
from typing import Literal

Unit = Literal["ratio", "seconds", "cpu_seconds", "share_of_limit", "count", "condition", "per_second"]

MAX_SHOWN_SIGMAS = 100.0

SIGNAL_UNITS: dict[str, Unit] = {
    "error_ratio": "ratio",
    "callers_error_ratio": "ratio",
    "pod_error_ratio": "ratio",
    "latency_p99": "seconds",
    "callers_latency_p99": "seconds",
    "latency_p50_s": "seconds",
    "latency_p99_s": "seconds",
    "cpu_per_request": "cpu_seconds",
    "cpu_throttling": "ratio",
    "cpu_vs_limit": "share_of_limit",
    "memory_vs_limit": "share_of_limit",
    "restarts": "count",
    "failed_pods": "count",
    "pressure": "condition",
    "not_ready": "condition",
    "request_rate": "per_second",
}

SIGNAL_WORDS: dict[str, str] = {
    "error_ratio": "error ratio",
    "callers_error_ratio": "callers' error ratio",
    "pod_error_ratio": "pod error ratio",
    "latency_p99": "p99 latency",
    "callers_latency_p99": "callers' p99 latency",
    "latency_p50_s": "p50 latency",
    "latency_p99_s": "p99 latency",
    "cpu_per_request": "CPU per request",
    "cpu_throttling": "CPU throttling",
    "cpu_vs_limit": "CPU",
    "memory_vs_limit": "memory",
    "restarts": "restarts",
    "failed_pods": "failed pods",
    "pressure": "pressure condition",
    "not_ready": "NotReady condition",
    "request_rate": "request rate",
}


def unit_of(signal: str) -> Unit | None:
    return SIGNAL_UNITS.get(signal)


def words_of(signal: str) -> str:
    return SIGNAL_WORDS.get(signal, signal.replace("_", " "))


def _digits(value: float) -> str:
    """Whole numbers from 10 up, one decimal from 1, two significant digits below: 31, 4.8, 0.052."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    decimals = 0 if magnitude >= 10 else 1 if magnitude >= 1 else 1 - math.floor(math.log10(magnitude))
    text = f"{value:.{min(decimals, 6)}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return text if text not in ("0", "-0") else "0"


def _number_and_tail(value: float, unit: Unit | None) -> tuple[str, str]:
    """The number with its own symbol ("31 %", "232 ms"), and a tail a range shares ("of limit")."""
    if unit in ("ratio", "share_of_limit"):
        return f"{_digits(value * 100)} %", " of limit" if unit == "share_of_limit" else ""
    if unit in ("seconds", "cpu_seconds"):
        tail = " CPU" if unit == "cpu_seconds" else ""
        return (f"{_digits(value * 1000)} ms" if abs(value) < 1 else f"{_digits(value)} s"), tail
    if unit == "condition":
        return ("true" if value >= 0.5 else "false"), ""
    if unit == "per_second":
        return f"{_digits(value)} req/s", ""
    return _digits(value), ""


def fmt_value(value: float | None, unit: Unit | None) -> str:
    """`value` in `unit`, as people read it ("31 %", "232 ms", "55 % of limit"); "n/a" for a missing one."""
    if value is None or not math.isfinite(value):
        return "n/a"
    number, tail = _number_and_tail(value, unit)
    return number + tail


def fmt_ratio(baseline: float | None, value: float | None) -> str | None:
    """ "×1.2 its baseline" when both are positive and differ by 10 % or more; None otherwise."""
    if baseline is None or value is None or not (baseline > 0 and value > 0):
        return None
    if not (math.isfinite(baseline) and math.isfinite(value)):
        return None
    ratio = value / baseline
    if 1 / 1.1 < ratio < 1.1:
        return None
    shown = f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.1f}" if ratio >= 1 else f"{ratio:.2g}"
    return f"×{shown} its baseline"


def describe_change(
    signal: str, baseline: float | None, value: float | None, unit: Unit | None = None
) -> str:
    """ "p99 latency 195 ms → 232 ms (×1.2 its baseline)": the signal in words, from its baseline to `value`."""
    unit = unit or unit_of(signal)
    before, after = fmt_value(baseline, unit), fmt_value(value, unit)
    tail = _number_and_tail(0.0, unit)[1]
    if tail and before.endswith(tail) and after.endswith(tail):  # "55 % → 4 % of limit"
        before = before.removesuffix(tail)
    text = f"{words_of(signal)} {before} → {after}"
    # A factor reads well for durations and levels; for a share (5xx 0.1 % → 10 %) the points say it.
    ratio = (
        fmt_ratio(baseline, value)
        if unit in ("seconds", "cpu_seconds", "share_of_limit", "per_second")
        else None
    )
    return f"{text}, {ratio}" if ratio else text


def fmt_sigmas(sigmas: float, *, signed: bool = False) -> str:
    """A robust-sigma score, bounded in display: "≥ 100σ" past `MAX_SHOWN_SIGMAS`."""
    if not math.isfinite(sigmas) or abs(sigmas) >= MAX_SHOWN_SIGMAS:
        return f"≤ -{MAX_SHOWN_SIGMAS:.0f}σ" if sigmas < 0 else f"≥ {MAX_SHOWN_SIGMAS:.0f}σ"
    return f"{sigmas:+.0f}σ" if signed else f"{sigmas:.0f}σ"
