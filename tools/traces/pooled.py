"""Statistics of one entity's observations (its requests, or its callers' waits) per grid bucket, pooled
when the bucket alone holds too few.

An idle service serves a handful of requests a minute, and traces are sampled: a p90 of two spans is
one of them, and jumps from milliseconds to seconds on a single slow call. Each bucket therefore reads
its own observations, or, when it holds fewer than `need`, the latest `need` observations up to its end
(none older than `pool_s`): busy services keep their per-step resolution, idle ones get a value that
moves only when several of their requests change. A bucket that cannot gather `need` observations in
`pool_s` is NaN: no evidence, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Pools:
    """Per bucket, the observations a statistic reads: indices [lo, hi) of the time-ordered stream."""

    lo: IntArray
    hi: IntArray
    valid: npt.NDArray[np.bool_]


class Stream:
    """Observations of one entity, ordered by time, with the grid bucket of each."""

    def __init__(self, start_s: FloatArray, bucket: IntArray, bucket_end_s: FloatArray) -> None:
        order = np.argsort(start_s, kind="stable")
        self.order = order
        self.start_s = start_s[order]
        self.bucket = bucket[order]
        self.bucket_end_s = bucket_end_s

    def sorted(self, values: FloatArray) -> FloatArray:
        """`values` (given in the stream's input order) in the stream's time order."""
        out: FloatArray = values[self.order]
        return out

    def pools(self, need: int, pool_s: float) -> Pools:
        buckets = np.arange(self.bucket_end_s.size)
        hi = np.searchsorted(self.bucket, buckets, side="right").astype(np.int64)
        own = np.searchsorted(self.bucket, buckets, side="left").astype(np.int64)
        lo = np.minimum(own, np.maximum(hi - need, 0))
        oldest = np.searchsorted(self.start_s, self.bucket_end_s - pool_s, side="left").astype(np.int64)
        lo = np.maximum(lo, np.minimum(oldest, own))  # pooled ones expire; the bucket's own never do
        return Pools(lo=lo, hi=hi, valid=(hi - lo) >= max(1, need))

    def quantile(self, values: FloatArray, q: float, need: int, pool_s: float) -> FloatArray:
        """The q-quantile (linear interpolation) per bucket of `values` (in input order)."""
        ordered = self.sorted(values)
        pools = self.pools(need, pool_s)
        out = np.full(self.bucket_end_s.size, np.nan)
        last: tuple[int, int] | None = None
        value = np.nan
        for j in np.flatnonzero(pools.valid):
            lo, hi = int(pools.lo[j]), int(pools.hi[j])
            if (lo, hi) != last:  # an idle service keeps one pool over many buckets
                chunk = np.sort(ordered[lo:hi])
                pos = q * (chunk.size - 1)
                below = int(pos)
                above = min(below + 1, chunk.size - 1)
                value = float(chunk[below] + (chunk[above] - chunk[below]) * (pos - below))
                last = (lo, hi)
            out[j] = value
        return out

    def mean(self, values: FloatArray, need: int, pool_s: float) -> FloatArray:
        """The mean per bucket of `values` (in input order): a ratio when they are 0/1 or counts."""
        pools = self.pools(need, pool_s)
        total = np.concatenate([[0.0], np.cumsum(self.sorted(values))])
        out = np.full(self.bucket_end_s.size, np.nan)
        ok = pools.valid
        out[ok] = (total[pools.hi[ok]] - total[pools.lo[ok]]) / (pools.hi[ok] - pools.lo[ok])
        return out
