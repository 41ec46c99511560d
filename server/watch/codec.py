"""A streaming detector's state as JSON (no pickle): rings and the filled cells of the seasonal
tables as base64 float64, scalars as numbers.

The detector classes live in `tools.anomaly` and keep their state in a few named attributes; this
module names each of them once, so a restart resumes exactly where the loop stopped (the test
checks that a restored detector scores the next points as the uninterrupted one does). Non-finite
scalars are written as strings, so the JSON is valid for PostgreSQL's jsonb too.
"""

from __future__ import annotations

import base64
import math

import numpy as np
from pydantic import JsonValue

from tools.anomaly.detector import DetectorConfig
from tools.anomaly.likelihood import StreamingLikelihood
from tools.anomaly.robust import Ring
from tools.anomaly.seasonal import SeasonalProfile
from tools.anomaly.streaming import StreamingDetector

FORMAT = 2  # 2: a seasonal profile is one table (format 1 had a ring per bin)
_DETECTOR_SCALARS = ("_previous", "_first_t", "_shift", "_high", "_low", "_seen")
_LIKELIHOOD_SCALARS = ("_mean", "_stdev", "_last_red", "_seen")


class StateFormatError(ValueError):
    """A saved state this version cannot read (another format, or a detector of another shape)."""


def _number(x: float | int) -> JsonValue:
    if isinstance(x, int):
        return x
    return x if math.isfinite(x) else repr(float(x))  # 'nan', 'inf', '-inf'


def _float(value: JsonValue) -> float:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise StateFormatError(f"expected a number, got {value!r}") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise StateFormatError(f"expected a number, got {value!r}")


def _int(value: JsonValue) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise StateFormatError(f"expected an integer, got {value!r}")
    return value


def _floats(encoded: JsonValue, what: str) -> np.ndarray:
    """float64 values from base64 text (little-endian, as `ring_state` and `profile_state` write them)."""
    if not isinstance(encoded, str):
        raise StateFormatError(f"{what}: data must be base64 text")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise StateFormatError(f"{what}: data is not base64 text") from None
    if len(raw) % 8:
        raise StateFormatError(f"{what}: data is not a whole number of float64 values")
    return np.frombuffer(raw, dtype="<f8")


def ring_state(ring: Ring) -> dict[str, JsonValue]:
    """Only the filled part of a ring that has not wrapped yet: a young series saves little."""
    data: np.ndarray = ring._data
    held = data if ring.count == data.size else data[: ring.count]
    raw = np.ascontiguousarray(held, dtype="<f8").tobytes()
    return {"data": base64.b64encode(raw).decode("ascii"), "next": ring._next, "count": ring.count}


def restore_ring(ring: Ring, state: JsonValue) -> None:
    if not isinstance(state, dict):
        raise StateFormatError("a ring's state must be an object")
    values = _floats(state.get("data"), "a ring")
    capacity = ring._data.size
    count, nxt = _int(state.get("count")), _int(state.get("next"))
    if values.size > capacity or not 0 <= count <= capacity or not 0 <= nxt < max(capacity, 1):
        raise StateFormatError(f"a ring of {values.size} values does not fit the capacity {capacity}")
    if values.size != count or (count < capacity and nxt != count):
        raise StateFormatError(
            f"a ring's count {count} and next {nxt} disagree with its {values.size} values"
        )
    ring._data[:] = 0.0
    ring._data[: values.size] = values
    ring.count, ring._next = count, nxt


def _rings(rings: list[Ring]) -> list[JsonValue]:
    return [ring_state(r) for r in rings]


def _restore_rings(rings: list[Ring], states: JsonValue, what: str) -> None:
    if not isinstance(states, list) or len(states) != len(rings):
        raise StateFormatError(f"{what}: expected {len(rings)} rings")
    for ring, state in zip(rings, states, strict=True):
        restore_ring(ring, state)


def profile_state(profile: SeasonalProfile) -> dict[str, JsonValue]:
    """Only the bins that hold values, each with only its filled columns: a young series saves little."""
    table: np.ndarray = profile._table
    counts: np.ndarray = profile._count
    bins = np.flatnonzero(counts)
    filled = np.arange(table.shape[1]) < counts[:, None]  # a bin fills its columns from 0 up
    raw = np.ascontiguousarray(table[filled], dtype="<f8").tobytes()  # row by row: bin order
    return {
        "bins": bins.tolist(),
        "count": counts[bins].tolist(),
        "next": profile._next[bins].tolist(),
        "data": base64.b64encode(raw).decode("ascii"),
    }


def _ints(value: JsonValue, what: str, low: int, high: int) -> list[int]:
    """A JSON list of integers in low..high."""
    if not isinstance(value, list):
        raise StateFormatError(f"{what}: expected a list of integers")
    out = [_int(v) for v in value]
    if any(not low <= v <= high for v in out):
        raise StateFormatError(f"{what}: values must lie in {low}..{high}")
    return out


def restore_profile(profile: SeasonalProfile, state: JsonValue, what: str) -> None:
    """Refuses (StateFormatError) anything `profile_state` of this profile's shape cannot have written."""
    if not isinstance(state, dict):
        raise StateFormatError(f"{what}: a seasonal profile's state must be an object")
    n_bins, depth = profile._table.shape
    bins = _ints(state.get("bins"), f"{what}.bins", 0, n_bins - 1)
    counts = _ints(state.get("count"), f"{what}.count", 1, depth)
    nexts = _ints(state.get("next"), f"{what}.next", 0, depth - 1)
    if not len(bins) == len(counts) == len(nexts):
        raise StateFormatError(f"{what}: bins, count and next differ in length")
    if bins != sorted(set(bins)):
        raise StateFormatError(f"{what}: bins must be increasing")
    if any(c < depth and n != c for c, n in zip(counts, nexts, strict=True)):
        raise StateFormatError(f"{what}: a bin that has not wrapped must write next at its count")
    values = _floats(state.get("data"), what)
    if values.size != sum(counts):
        raise StateFormatError(f"{what}: data holds {values.size} values, the counts say {sum(counts)}")
    profile._count[:] = 0
    profile._count[bins] = counts
    profile._next[:] = 0
    profile._next[bins] = nexts
    profile._table[:] = 0.0
    profile._table[np.arange(depth) < profile._count[:, None]] = values


def detector_state(detector: StreamingDetector) -> dict[str, JsonValue]:
    """Everything `update` reads; the configuration is the caller's (it is not saved)."""
    likelihood: StreamingLikelihood = detector._likelihood
    daily: SeasonalProfile = detector._daily
    weekly: SeasonalProfile = detector._weekly
    return {
        "format": FORMAT,
        **{name.lstrip("_"): _number(getattr(detector, name)) for name in _DETECTOR_SCALARS},
        "local": ring_state(detector._local),
        "daily": profile_state(daily),
        "weekly": profile_state(weekly),
        "errors": _rings(detector._errors),
        "likelihood": {
            **{name.lstrip("_"): _number(getattr(likelihood, name)) for name in _LIKELIHOOD_SCALARS},
            "raw": ring_state(likelihood._raw),
            "averages": ring_state(likelihood._averages),
        },
    }


def restore_detector(state: JsonValue, cfg: DetectorConfig) -> StreamingDetector:
    """A detector of configuration `cfg` resumed from `detector_state`'s output."""
    if not isinstance(state, dict):
        raise StateFormatError("a detector state must be an object")
    if state.get("format") != FORMAT:
        raise StateFormatError(
            f"a detector state of format {state.get('format')!r}; this version reads {FORMAT}"
        )
    detector = StreamingDetector(cfg)
    for name in _DETECTOR_SCALARS:
        value = state.get(name.lstrip("_"))
        setattr(detector, name, _int(value) if name == "_seen" else _float(value))
    restore_ring(detector._local, state.get("local"))
    restore_profile(detector._daily, state.get("daily"), "daily")
    restore_profile(detector._weekly, state.get("weekly"), "weekly")
    _restore_rings(detector._errors, state.get("errors"), "errors")
    inner = state.get("likelihood")
    if not isinstance(inner, dict):
        raise StateFormatError("likelihood: expected an object")
    likelihood = detector._likelihood
    for name in _LIKELIHOOD_SCALARS:
        value = inner.get(name.lstrip("_"))
        is_int = name in ("_last_red", "_seen")
        setattr(likelihood, name, _int(value) if is_int else _float(value))
    restore_ring(likelihood._raw, inner.get("raw"))
    restore_ring(likelihood._averages, inner.get("averages"))
    return detector
