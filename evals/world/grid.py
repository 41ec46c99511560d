"""The shared time grid and the small numeric helpers every part of the simulator uses.

Everything is vectorised over the time axis; randomness comes from generators keyed by the scenario
seed and a stable name, so one service's noise does not change when another service gains a fault.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from evals.durations import parse_duration
from evals.scenario import Scenario
from evals.world.model import FloatArray

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Grid:
    """Sample instants from `end - history` to `end` inclusive, one per `step` (unix ms)."""

    ts_ms: IntArray
    step_s: float
    seed: int

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> Grid:
        end_ms = to_ms(scenario.end_utc)
        step_ms = round(parse_duration(scenario.step).total_seconds() * 1000)
        history_ms = round(parse_duration(scenario.history).total_seconds() * 1000)
        count = history_ms // step_ms
        ts = end_ms - step_ms * np.arange(count, -1, -1, dtype=np.int64)
        return cls(ts_ms=ts, step_s=step_ms / 1000.0, seed=scenario.seed)

    @property
    def n(self) -> int:
        return int(self.ts_ms.size)

    @property
    def end_ms(self) -> int:
        return int(self.ts_ms[-1])

    @property
    def start_ms(self) -> int:
        return int(self.ts_ms[0])

    def index(self, at_ms: int) -> int:
        """The first sample at or after `at_ms` (n when after the end)."""
        return int(np.searchsorted(self.ts_ms, at_ms, side="left"))

    def latest(self, at_ms: int) -> int:
        """The last sample at or before `at_ms` (0 when before the start): the state the world was in."""
        return max(int(np.searchsorted(self.ts_ms, at_ms, side="right")) - 1, 0)

    def seconds_since(self, at_ms: int) -> FloatArray:
        return (self.ts_ms - at_ms).astype(np.float64) / 1000.0

    def rng(self, *parts: object) -> np.random.Generator:
        """A generator for one named stream (e.g. ("pod", name, "cpu")), stable across runs."""
        digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
        return np.random.default_rng([self.seed, int.from_bytes(digest[:8], "little")])


def to_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def stable_token(alphabet: str, length: int, *parts: object) -> str:
    """A short deterministic name fragment (ReplicaSet hashes, pod suffixes) from a hash of `parts`."""
    value = int.from_bytes(hashlib.sha256("/".join(str(p) for p in parts).encode()).digest(), "big")
    chars = []
    for _ in range(length):
        value, digit = divmod(value, len(alphabet))
        chars.append(alphabet[digit])
    return "".join(chars)


def smooth_noise(rng: np.random.Generator, n: int, sigma: float, width: int = 5) -> FloatArray:
    """Zero-mean noise with short-range correlation (a moving average of white noise), std ≈ sigma."""
    white = rng.standard_normal(n + width - 1)
    kernel = np.full(width, 1.0 / np.sqrt(width))
    return np.convolve(white, kernel, mode="valid") * sigma


def normal_cdf(x: FloatArray) -> FloatArray:
    """Φ(x) via the Abramowitz–Stegun erf approximation (|error| < 1.5e-7), to avoid a SciPy import."""
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return np.asarray(0.5 * (1.0 + np.sign(x) * erf), dtype=np.float64)


def cumsum_with_resets(increments: FloatArray, resets: BoolArray) -> FloatArray:
    """Running total that restarts from the increment at each index where `resets` is true
    (a counter of a container that was restarted starts again from zero)."""
    total = np.cumsum(increments)
    if not resets.any():
        return total
    starts = np.flatnonzero(resets)
    base = np.zeros_like(total)
    base[starts] = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0.0)
    base = np.maximum.accumulate(base)
    return np.asarray(total - base, dtype=np.float64)


def ramp(grid: Grid, start_ms: int, seconds: float = 60.0) -> FloatArray:
    """0 before `start_ms`, rising linearly to 1 over `seconds` (a fault does not land in one sample)."""
    return np.clip(grid.seconds_since(start_ms) / seconds + (1.0 if seconds <= 0 else 0.0), 0.0, 1.0)
