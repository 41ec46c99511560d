"""Cumulative Prometheus histograms from the load model's latency mixtures.

Requests per sample are Poisson draws; each bucket holds the log-normal share of them at or under
its bound (rounded, which keeps the buckets monotone in `le`). Everything is a cumulative counter
that restarts from zero when the process exposing it restarts.
"""

from __future__ import annotations

import numpy as np

from evals.world.grid import BoolArray, Grid, cumsum_with_resets, normal_cdf
from evals.world.load import Parts
from evals.world.model import FloatArray, Series

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

Labels = tuple[tuple[str, str], ...]


def labels(**pairs: str) -> Labels:
    """Label pairs sorted by name, as `Series.labels` wants them."""
    return tuple(sorted(pairs.items()))


def histogram_series(
    family: str,
    base: Labels,
    parts: Parts,
    sigma: float,
    grid: Grid,
    rng: np.random.Generator,
    present: BoolArray,
    resets: BoolArray,
) -> list[Series]:
    """The _bucket, _sum and _count series of one label set; [] when it never saw a request."""
    counts = np.zeros(grid.n)
    total_s = np.zeros(grid.n)
    buckets = np.zeros((len(BUCKETS), grid.n))
    log_bounds = np.log(np.asarray(BUCKETS) * 1000.0)[:, None]
    for rate, median_ms in parts:
        n = rng.poisson(np.nan_to_num(np.maximum(rate, 0.0)) * grid.step_s).astype(np.float64)
        n[~present] = 0.0
        if not n.any():
            continue
        median = np.maximum(np.nan_to_num(median_ms, nan=1.0), 0.01)
        counts += n
        total_s += n * median * np.exp(sigma**2 / 2) / 1000.0
        buckets += np.round(n * normal_cdf((log_bounds - np.log(median)) / sigma))
    if not counts.any():
        return []
    hide = ~present

    def cumulative(values: FloatArray) -> FloatArray:
        out = cumsum_with_resets(values, resets)
        out[hide] = np.nan
        return out

    series = [
        Series(f"{family}_bucket", tuple(sorted((*base, ("le", _le(bound))))), cumulative(row))
        for bound, row in zip(BUCKETS, buckets, strict=True)
    ]
    series.append(Series(f"{family}_bucket", tuple(sorted((*base, ("le", "+Inf")))), cumulative(counts)))
    series.append(Series(f"{family}_sum", base, cumulative(total_s)))
    series.append(Series(f"{family}_count", base, cumulative(counts)))
    return series


def _le(bound: float) -> str:
    return repr(bound) if bound != int(bound) else f"{bound:.1f}"
