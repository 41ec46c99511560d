"""Saturation forecasts: when will a service's busiest pod reach its CPU or memory limit?

Each saturation series keeps its last `history_points` (time, share of limit) in two rings (fixed
memory). Every `every_steps` steps a cheap least-squares slope over the recent points decides whether
a forecast is worth fitting (rising, and a straight line would reach the limit within twice the
horizon); if so `tools.anomaly.forecast.time_to_threshold` fits it (Holt-Winters with a daily season
once two days of history are held, a damped trend before) and the loop warns when the limit is
forecast within the horizon. A one-step fall of a tenth of the limit is read as a restart: the fit
then uses only the points since it.
"""

from __future__ import annotations

import json

import numpy as np
from pydantic import BaseModel, ConfigDict, JsonValue

from server.watch.codec import restore_ring, ring_state
from server.watch.config import ForecastRule
from tools.anomaly.forecast import time_to_threshold
from tools.anomaly.robust import Ring

_SLOPE_POINTS = 20  # the pre-check's window: ~10 minutes at the default step
_RESET_DROP = 0.1  # a fall of this share of the limit in one step is a restart, not a trend
_MIN_SEGMENT = 10  # points since a restart before its climb is forecast


class Eta(BaseModel):
    """A forecast that crosses the limit: seconds from `at` and the model that said so."""

    model_config = ConfigDict(frozen=True)

    at: float
    seconds: float
    value: float
    model: str


class SaturationHistory:
    """The last points of one saturation series."""

    def __init__(self, capacity: int) -> None:
        self.times, self.values = Ring(capacity), Ring(capacity)
        self.steps = 0

    def push(self, t: float, value: float) -> None:
        self.times.push(t)
        self.values.push(value)
        self.steps += 1

    def state(self) -> str:
        payload: dict[str, JsonValue] = {
            "times": ring_state(self.times),
            "values": ring_state(self.values),
            "steps": self.steps,
        }
        return json.dumps(payload)

    @classmethod
    def restore(cls, text: str, capacity: int) -> SaturationHistory:
        data = json.loads(text)
        history = cls(capacity)
        restore_ring(history.times, data["times"])
        restore_ring(history.values, data["values"])
        history.steps = int(data["steps"])
        return history

    def eta(self, rule: ForecastRule) -> Eta | None:
        """The forecast's time to `limit_share` of the limit, when it falls within the horizon."""
        if self.steps % rule.every_steps or self.values.count < rule.min_points:
            return None
        t, y = self.times.values(), self.values.values()
        # A restart (an OOM kill, a rollout) starts a container afresh: fit the climb since the last one,
        # not a sawtooth whose drops a trend model would average into a slower rise.
        drops = np.flatnonzero(np.diff(y) < -_RESET_DROP)
        if drops.size:
            t, y = t[drops[-1] + 1 :], y[drops[-1] + 1 :]
            if y.size < _MIN_SEGMENT:
                return None
        last, limit = float(y[-1]), rule.limit_share
        if last < rule.min_share or last >= limit:
            return None  # idle, or already there (the anomaly side reports that)
        recent_t, recent_y = t[-_SLOPE_POINTS:], y[-_SLOPE_POINTS:]
        slope = float(np.polyfit(recent_t - recent_t[0], recent_y, 1)[0])
        if slope <= 0 or (limit - last) / slope > 2 * rule.horizon_s:
            return None
        eta = time_to_threshold(y, t, limit, horizon_s=rule.horizon_s)
        if eta.seconds is None or eta.seconds > rule.horizon_s:
            return None
        return Eta(at=float(t[-1]), seconds=eta.seconds, value=last, model=eta.forecast.model)
