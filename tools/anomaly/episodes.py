"""From per-point scores to anomalous episodes, each with the time its deviation began (its onset).

Why an onset: the detector alerts when the evidence is strong enough, which for a slow drift or a
level shift judged against a noisy history can be several points after the series left its normal
behaviour. Responders want when it started (to line it up with a deploy, a config change), so the
onset walks back from the first alerting point while the deviation signal (e.g. the detector's
level-shift statistic) is still raised. Without a deviation signal the onset is the first alerting
point.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from tools.anomaly.detector import Analysis, DetectorConfig, analyze

DEVIATION_LEVEL = 2.0  # a standardised deviation (sigmas) above which the series is still off
DIP_TOLERANCE = 2  # points a raised deviation may dip below the level (noise) and still be one stretch


class Episode(BaseModel):
    """One anomalous episode: times in the units of the given timestamps (epoch seconds here)."""

    model_config = ConfigDict(frozen=True)

    onset: float  # where the deviation began (== start without a deviation signal)
    start: float  # first point whose score reached the threshold
    end: float  # last point of the episode
    peak: float  # the point with the highest score
    peak_score: float
    onset_index: int
    start_index: int
    end_index: int
    peak_index: int


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (first, last) index of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist(), strict=True)
    )


def _raised_spans(
    n: int, deviation: np.ndarray | None, level: float, dip_tolerance: int
) -> list[tuple[int, int] | None]:
    """Per point, the (first, last) of the raised stretch it lies in, bridging short dips; else None."""
    out: list[tuple[int, int] | None] = [None] * n
    if deviation is None:
        return out
    merged: list[list[int]] = []
    for first, last in _runs(np.asarray(deviation) >= level):
        if merged and first - merged[-1][1] - 1 <= dip_tolerance:
            merged[-1][1] = last
        else:
            merged.append([first, last])
    for first, last in merged:
        out[first : last + 1] = [(first, last)] * (last - first + 1)
    return out


def episodes(
    scores: np.ndarray,
    timestamps: np.ndarray,
    threshold: float,
    deviation: np.ndarray | None = None,
    deviation_level: float = DEVIATION_LEVEL,
    merge_gap: int = 0,
    dip_tolerance: int = DIP_TOLERANCE,
) -> list[Episode]:
    """Episodes where `scores >= threshold`, oldest first.

    With `deviation` (same length, larger = further from normal), an episode also spans the raised
    deviation around its alerting points: its onset walks back and its end walks forward while
    `deviation >= deviation_level` (dips of at most `dip_tolerance` points, noise, do not stop
    it), so one level shift that alerts twice is one episode. Alerting runs at most `merge_gap`
    points apart are merged too.
    """
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(timestamps, dtype=np.float64)
    if s.shape != t.shape or (deviation is not None and np.shape(deviation) != s.shape):
        raise ValueError("scores, timestamps and deviation must have the same length")
    spans: list[list[int]] = []  # [onset, start, end]
    raised = _raised_spans(s.size, deviation, deviation_level, dip_tolerance)
    for first, last in _runs(s >= threshold):
        around_first, around_last = raised[first], raised[last]
        onset = around_first[0] if around_first else first
        end = max(last, around_last[1]) if around_last else last
        if spans and onset <= spans[-1][2] + merge_gap + 1:
            spans[-1][2] = max(spans[-1][2], end)
        else:
            spans.append([onset, first, end])
    out = []
    for onset, start, end in spans:
        peak = start + int(np.argmax(s[start : end + 1]))
        out.append(
            Episode(
                onset=float(t[onset]),
                start=float(t[start]),
                end=float(t[end]),
                peak=float(t[peak]),
                peak_score=float(s[peak]),
                onset_index=onset,
                start_index=start,
                end_index=end,
                peak_index=peak,
            )
        )
    return out


def analysis_episodes(analysis: Analysis, timestamps: np.ndarray, threshold: float) -> list[Episode]:
    """Episodes of a detector analysis, onsets refined by its level-shift statistic."""
    return episodes(analysis.score, timestamps, threshold, deviation=analysis.shift)


def detect_episodes(
    values: np.ndarray, timestamps: np.ndarray, threshold: float, cfg: DetectorConfig | None = None
) -> list[Episode]:
    """Run the detector on a series and return its episodes (the one-call form for tools)."""
    return analysis_episodes(analyze(values, timestamps, cfg), timestamps, threshold)
