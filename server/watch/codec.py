"""A streaming detector's state as JSON (no pickle): rings as base64 float64, scalars as numbers.

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

FORMAT = 1
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
        return float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise StateFormatError(f"expected a number, got {value!r}")


def _int(value: JsonValue) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise StateFormatError(f"expected an integer, got {value!r}")
    return value


def ring_state(ring: Ring) -> dict[str, JsonValue]:
    """Only the filled part of a ring that has not wrapped yet: a young series saves little."""
    data: np.ndarray = ring._data
    held = data if ring.count == data.size else data[: ring.count]
    raw = np.ascontiguousarray(held, dtype="<f8").tobytes()
    return {"data": base64.b64encode(raw).decode("ascii"), "next": ring._next, "count": ring.count}


def restore_ring(ring: Ring, state: JsonValue) -> None:
    if not isinstance(state, dict):
        raise StateFormatError("a ring's state must be an object")
    encoded = state.get("data")
    if not isinstance(encoded, str):
        raise StateFormatError("a ring's data must be base64 text")
    values = np.frombuffer(base64.b64decode(encoded), dtype="<f8")
    capacity = ring._data.size
    count, nxt = _int(state.get("count")), _int(state.get("next"))
    if values.size > capacity or count > capacity or nxt >= max(capacity, 1):
        raise StateFormatError(f"a ring of {values.size} values does not fit the capacity {capacity}")
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


def detector_state(detector: StreamingDetector) -> dict[str, JsonValue]:
    """Everything `update` reads; the configuration is the caller's (it is not saved)."""
    likelihood: StreamingLikelihood = detector._likelihood
    daily: SeasonalProfile = detector._daily
    weekly: SeasonalProfile = detector._weekly
    return {
        "format": FORMAT,
        **{name.lstrip("_"): _number(getattr(detector, name)) for name in _DETECTOR_SCALARS},
        "local": ring_state(detector._local),
        "daily": _rings(daily._rings),
        "weekly": _rings(weekly._rings),
        "errors": _rings(detector._errors),
        "likelihood": {
            **{name.lstrip("_"): _number(getattr(likelihood, name)) for name in _LIKELIHOOD_SCALARS},
            "raw": ring_state(likelihood._raw),
            "averages": ring_state(likelihood._averages),
        },
    }


def restore_detector(state: JsonValue, cfg: DetectorConfig) -> StreamingDetector:
    """A detector of configuration `cfg` resumed from `detector_state`'s output."""
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise StateFormatError(f"not a detector state of format {FORMAT}")
    detector = StreamingDetector(cfg)
    for name in _DETECTOR_SCALARS:
        value = state.get(name.lstrip("_"))
        setattr(detector, name, _int(value) if name == "_seen" else _float(value))
    restore_ring(detector._local, state.get("local"))
    _restore_rings(detector._daily._rings, state.get("daily"), "daily")
    _restore_rings(detector._weekly._rings, state.get("weekly"), "weekly")
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
