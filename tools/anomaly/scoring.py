"""Per-series anomaly scores of an incident window, against the best baseline available.

- The baseline is the series before the onset. Where that is already anomalous against the
  `reference` (the same window one day or one week earlier, or fault-free data), a fault began before
  the lookback window and would hide itself: the reference is the baseline. Where it is too short to
  judge, the reference and those few points together are.
- A row with fewer than `min_baseline_points` baseline samples cannot be judged; a row held on a
  grid finer than its samples (`SeriesKey.repeats`) counts its samples, not their copies.
- A score is the sustained peak after onset: the level |z| holds for `persistence` points and for
  half of the points since the onset (an incident under way holds its anomaly; a blip somewhere in a
  long window does not, which keeps an onset search from finding one in every healthy window),
  one-sided for latency and errors (getting faster is not a fault), discounted when the baseline
  itself swings that far about once an hour (a bursty series).
- Latency percentiles and error ratios are per-request statistics: measured on a handful of requests
  they are noise (an idle pod's p99 of two requests jumps from milliseconds to seconds). Where the
  entity has a traffic row, each point's scale is at least what its request count allows (a factor
  e^(1/√n) for latency, one request in n for a ratio), so a ms→s jump on 2 requests is a few sigmas
  and 2 failed requests out of 2 weigh like 2 failed requests, not like a 100 % error ratio. A q-th
  percentile over fewer than 1/(1−q) requests (a p99 of 60) is the slowest request alone: it counts
  as the n·(1−q) requests it stands for, so one slow call among 60 is not 36 σ of a service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tools.anomaly.baseline import (
    BoolArray,
    FloatArray,
    NoiseFloors,
    RobustBaseline,
    fit_baseline,
    in_model_space,
    robust_z,
    sustained_peak,
)
from tools.anomaly.signal_matrix import UPWARD_ONLY_KINDS, SeriesKey

BURST_EVERY_S = 3600.0  # a baseline's peak is what it reaches about once an hour
PER_REQUEST_KINDS = UPWARD_ONLY_KINDS  # latency percentiles and error ratios: per-request statistics


@dataclass(frozen=True)
class ScoringConfig:
    threshold: float
    persistence: int  # points an anomaly must hold
    sustained_share: float  # and this share of the points since the onset
    step_s: float  # the grid's step, to tell how long a baseline lasts
    baseline_peak_allowance: float
    min_baseline_points: int
    floors: NoiseFloors


@dataclass(frozen=True)
class RowScores:
    """Per series (S,) and per post-onset point (S, T)."""

    score: FloatArray  # held, discounted anomaly score; 0 when the series cannot be judged
    z: FloatArray  # (S, T) signed robust z in model space
    judged_z: FloatArray  # (S, T) directional and discounted: what the threshold applies to
    peak_index: npt.NDArray[np.int64]
    baseline_median: FloatArray  # in the series' own units
    baseline_peak: FloatArray  # how far the baseline already swung (sigmas)
    against_reference: BoolArray  # judged against the reference, not the pre-onset points


@dataclass(frozen=True)
class _Assessed:
    base: RobustBaseline
    z: FloatArray
    judged: FloatArray
    score: FloatArray
    peak_index: npt.NDArray[np.int64]
    base_peak: FloatArray
    ok: BoolArray


def request_counts(
    keys: Sequence[SeriesKey], values: FloatArray, baseline: BoolArray, step_s: float
) -> FloatArray:
    """(S, T) requests per step behind each latency and error-ratio point, from the entity's traffic
    row (same source first); NaN where the entity has none. A traffic row counts requests per second
    unless its noise model is `count` (requests per step). The entity's usual traffic (median over
    `baseline`) is a floor: a service whose traffic collapses because it fails keeps its evidence."""
    out = np.full_like(values, np.nan)
    traffic: dict[tuple[str, str], int] = {}
    for i, key in enumerate(keys):
        if key.resolved_kind == "traffic":
            traffic.setdefault((key.entity, key.source), i)
            traffic.setdefault((key.entity, ""), i)
    if not traffic:
        return out
    rows = sorted(set(traffic.values()))
    usual = dict(zip(rows, _nanmedian_rows(values[rows][:, baseline]), strict=True))
    for i, key in enumerate(keys):
        if key.resolved_kind not in PER_REQUEST_KINDS or key.resolved_noise not in ("relative", "ratio"):
            continue
        row = traffic.get((key.entity, key.source), traffic.get((key.entity, "")))
        if row is not None:
            per_step = 1.0 if keys[row].resolved_noise == "count" else step_s
            out[i] = np.fmax(values[row], usual[row]) * per_step
    return out


def tail_shares(keys: Sequence[SeriesKey]) -> FloatArray:
    """(S,) 1 − q of each row reading a q-th percentile (`SeriesKey.quantile`); NaN for the others."""
    return np.asarray([1.0 - k.quantile if k.quantile is not None else np.nan for k in keys])


def request_floor(requests: FloatArray, relative: BoolArray, tail: FloatArray) -> FloatArray:
    """(S, T) the smallest scale a point measured on `requests` allows: a latency percentile of n
    requests is known to a factor e^(1/√n) (log space), a ratio to one request in n (1/n). A q-th
    percentile (`tail` = 1 − q) of fewer than 1/(1−q) requests is their slowest one, standing for
    the n·(1−q) < 1 requests beyond the percentile: it is known to e^(1/√(n·(1−q))). No known
    requests (NaN): no floor; zero requests: nothing was measured (infinite floor)."""
    floor = np.zeros_like(requests)
    rows = np.flatnonzero(~np.all(np.isnan(requests), axis=1))
    if rows.size:
        n = requests[rows]
        beyond = n * tail[rows, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            n = np.where(beyond < 1.0, beyond, n)  # NaN tail (no quantile): compares False, n stays
            per_point = np.where(relative[rows, None], 1.0 / np.sqrt(n), 1.0 / n)
        floor[rows] = np.where(np.isnan(n), 0.0, np.where(n > 0, per_point, np.inf))
    return floor


def _nanmedian_rows(values: FloatArray) -> FloatArray:
    """Each row's median; NaN for a row with no value. Only rows with a value reach numpy, which warns
    of the others (a warnings filter would not do: it is process-wide, and rankings run in threads)."""
    out = np.full(values.shape[0], np.nan)
    valued = ~np.all(np.isnan(values), axis=1)
    if valued.any():
        out[valued] = np.nanmedian(values[valued], axis=1)
    return out


def _z(values: FloatArray, base: RobustBaseline, floor: FloatArray) -> FloatArray:
    """Robust z with each point's scale at least its request floor."""
    with np.errstate(invalid="ignore", divide="ignore"):
        z: FloatArray = (values - base.median[:, None]) / np.maximum(base.scale[:, None], floor)
    return z


def score_rows(
    keys: Sequence[SeriesKey],
    values: FloatArray,
    before: BoolArray,
    after: BoolArray,
    cfg: ScoringConfig,
    reference: FloatArray | None = None,
) -> RowScores:
    """Score every row of `values` (S, T) after onset; `reference` (S, T_ref) aligned to `keys`."""
    models = np.asarray([k.resolved_noise for k in keys])
    relative = np.asarray(models == "relative", dtype=bool)
    upward = np.asarray([k.resolved_rises_only for k in keys], dtype=bool)
    x = in_model_space(values, relative)
    with np.errstate(all="ignore"):
        level = np.nanmax(np.abs(values), axis=1, initial=0.0, where=~np.isnan(values))
    tail = tail_shares(keys)
    repeats = np.asarray([k.repeats for k in keys])  # a baseline of 3 samples held 4 times is 3 samples
    floor = request_floor(request_counts(keys, values, before, cfg.step_s), relative, tail)

    def assess(base: RobustBaseline, past: FloatArray, past_floor: FloatArray) -> _Assessed:
        z = _z(x[:, after], base, floor[:, after])
        directional = np.where(upward[:, None], z, np.abs(z))
        z_past = _z(past, base, past_floor)
        base_peak, _ = sustained_peak(
            np.where(upward[:, None], z_past, np.abs(z_past)), _bursts(base.points, cfg)
        )
        discount = np.maximum(1.0, base_peak / cfg.baseline_peak_allowance)
        judged = directional / discount[:, None]
        peak, peak_index = sustained_peak(judged, _held(judged, cfg))
        ok = np.asarray(base.points >= cfg.min_baseline_points * repeats, dtype=bool)
        score = np.where(ok, np.maximum(peak, 0.0), 0.0)
        return _Assessed(base, z, judged, score, peak_index, base_peak, ok)

    local = assess(fit_baseline(x[:, before], level, models, cfg.floors), x[:, before], floor[:, before])
    use_reference = np.zeros(len(keys), dtype=bool)
    chosen = local
    if reference is not None and reference.shape[1] > 0:
        xr = in_model_space(reference, relative)
        everywhere = np.ones(reference.shape[1], dtype=bool)
        ref_floor = request_floor(request_counts(keys, reference, everywhere, cfg.step_s), relative, tail)
        ref_base = fit_baseline(xr, level, models, cfg.floors)
        # the pre-onset level is itself anomalous against the reference: a fault older than the window
        drift = robust_z(local.base.median[:, None], ref_base)[:, 0]
        poisoned = local.ok & (np.where(upward, drift, np.abs(drift)) >= cfg.threshold)
        # too few points of its own: the reference and those few points together (the latest state)
        pooled, pooled_floor = np.hstack([xr, x[:, before]]), np.hstack([ref_floor, floor[:, before]])
        against = _pick(
            poisoned,
            assess(ref_base, xr, ref_floor),
            assess(fit_baseline(pooled, level, models, cfg.floors), pooled, pooled_floor),
        )
        use_reference = against.ok & (~local.ok | poisoned)
        chosen = _pick(use_reference, against, local)
    median = chosen.base.median
    shown = median.copy()
    shown[relative] = np.exp(median[relative])
    return RowScores(
        score=chosen.score,
        z=chosen.z,
        judged_z=np.where(chosen.ok[:, None], chosen.judged, -np.inf),
        peak_index=chosen.peak_index,
        baseline_median=shown,
        baseline_peak=chosen.base_peak,
        against_reference=use_reference,
    )


def _held(judged: FloatArray, cfg: ScoringConfig) -> npt.NDArray[np.int64]:
    """Per row, how many points its anomaly must hold: `persistence`, and `sustained_share` of the
    valid points from where it first crossed the threshold to the end of the window (an incident under
    way stays anomalous once it shows; a blip in a long window does not)."""
    if judged.shape[1] == 0:
        return np.full(judged.shape[0], cfg.persistence, dtype=np.int64)
    over = judged >= cfg.threshold
    first = np.where(over.any(axis=1), np.argmax(over, axis=1), judged.shape[1])
    valid_after = np.cumsum(np.isfinite(judged)[:, ::-1], axis=1)[:, ::-1]  # valid points from i on
    since = np.where(
        first < judged.shape[1],
        valid_after[np.arange(judged.shape[0]), np.minimum(first, judged.shape[1] - 1)],
        0,
    )
    return np.maximum(cfg.persistence, np.ceil(cfg.sustained_share * since)).astype(np.int64)


def _bursts(points: npt.NDArray[np.int64], cfg: ScoringConfig) -> npt.NDArray[np.int64]:
    """How many points of a baseline its own peak is taken at: a swing it makes for `persistence`
    points about once an hour is its nature, a rarer one (one burst in two days of reference) is not."""
    hours = points * cfg.step_s / BURST_EVERY_S
    return np.asarray(cfg.persistence * np.maximum(1, np.round(hours)), dtype=np.int64)


def _pick(mask: BoolArray, yes: _Assessed, no: _Assessed) -> _Assessed:
    """Row-wise choice between two assessments."""
    col = mask[:, None]
    base = RobustBaseline(
        median=np.where(mask, yes.base.median, no.base.median),
        scale=np.where(mask, yes.base.scale, no.base.scale),
        points=np.where(mask, yes.base.points, no.base.points),
    )
    return _Assessed(
        base=base,
        z=np.where(col, yes.z, no.z),
        judged=np.where(col, yes.judged, no.judged),
        score=np.where(mask, yes.score, no.score),
        peak_index=np.where(mask, yes.peak_index, no.peak_index),
        base_peak=np.where(mask, yes.base_peak, no.base_peak),
        ok=mask | no.ok,
    )
