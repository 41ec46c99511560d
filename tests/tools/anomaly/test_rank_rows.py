"""What the ranking tool says about a candidate: each signal's baseline, peak and current value with its
unit in the data, and a line that leads with the change in units and shows sigmas bounded."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from tests.tools.anomaly.test_rank import CALLS, N_POINTS, ONSET, ONSET_INDEX, TIMES, healthy
from tools.anomaly.rank import Candidate, SignalMatrix, rank_root_causes
from tools.anomaly.tools import candidate_line, candidate_row


def _latency_fault(slower: float = 0.5) -> Candidate:
    """checkout's p99 goes from a steady 100 ms to 100 ms + `slower` (latency is judged as a ratio:
    ×6 is about 37 robust sigmas, ×300 over a hundred)."""
    series = healthy(11)
    series["checkout"]["latency_p99"] = np.random.default_rng(12).normal(0.1, 0.002, N_POINTS)
    series["checkout"]["latency_p99"][ONSET_INDEX:] += slower
    ranking = rank_root_causes(SignalMatrix.from_entities(TIMES, series), onset=ONSET, calls=CALLS)
    return ranking.candidates[0]


def test_each_signal_row_has_its_unit_baseline_peak_and_current_value() -> None:
    row: Any = candidate_row(_latency_fault(), "checkout", 1.0)
    latency = row["signals"][0]
    assert (latency["signal"], latency["unit"]) == ("latency_p99", "seconds")
    assert abs(latency["baseline"] - 0.1) < 0.002 and abs(latency["current"] - 0.6) < 0.01
    assert abs(latency["peak"] - 0.6) < 0.01
    assert re.fullmatch(r"p99 latency 100 ms → 60\d ms, ×6\.0 its baseline", latency["change"]), latency


def test_the_line_leads_with_units_and_bounds_its_sigmas() -> None:
    top = _latency_fault(slower=30.0)
    assert top.evidence[0].sigmas > 100  # the raw figure stays in the data
    line = candidate_line(top)
    assert line.startswith("checkout (score ≥ 100σ): p99 latency 100 ms → 30"), line
    shown = [float(n) for n in re.findall(r"(?<!≥ )(?<![\d.])(\d+(?:\.\d+)?)σ", line)]
    assert all(n < 100 for n in shown), line
