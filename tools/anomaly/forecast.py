"""Short-horizon forecasting for "CPU reaches its limit in ~12 min" statements.

Seasonal Holt-Winters (statsmodels ExponentialSmoothing) when the history holds at least two
daily cycles, an additive damped trend otherwise (and a plain linear fit on very short history).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from pydantic import BaseModel, ConfigDict
from statsmodels.tsa.holtwinters import ExponentialSmoothing

DAY_S = 86_400.0


class Forecast(BaseModel):
    """A fitted forecast: future timestamps and values, and which model produced them."""

    model_config = ConfigDict(frozen=True)

    model: str  # "holt_winters_seasonal" | "damped_trend" | "linear"
    step_s: float
    timestamps: list[float]
    values: list[float]


class ThresholdEta(BaseModel):
    """When the forecast first crosses the limit (None: not within the horizon)."""

    model_config = ConfigDict(frozen=True)

    seconds: float | None
    crossing_time: float | None
    forecast: Forecast


def fit_forecast(values: np.ndarray, timestamps: np.ndarray, horizon_s: float) -> Forecast:
    """Forecast `horizon_s` ahead of the last point (regularly sampled series assumed)."""
    y = np.asarray(values, dtype=np.float64)
    t = np.asarray(timestamps, dtype=np.float64)
    if y.size < 3:
        raise ValueError("a forecast needs at least 3 points")
    step = float(np.median(np.diff(t)))
    steps = max(1, math.ceil(horizon_s / step))
    season = round(DAY_S / step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if season >= 2 and y.size >= 2 * season:
            fit = ExponentialSmoothing(
                y, trend="add", damped_trend=True, seasonal="add", seasonal_periods=season
            )
            path, model = fit.fit().forecast(steps), "holt_winters_seasonal"
        elif y.size >= 10:
            fit = ExponentialSmoothing(y, trend="add", damped_trend=True)
            path, model = fit.fit().forecast(steps), "damped_trend"
        else:
            slope, intercept = np.polyfit(np.arange(y.size), y, 1)
            path, model = intercept + slope * np.arange(y.size, y.size + steps), "linear"
    future = t[-1] + step * np.arange(1, steps + 1)
    return Forecast(model=model, step_s=step, timestamps=future.tolist(), values=np.asarray(path).tolist())


def time_to_threshold(
    values: np.ndarray, timestamps: np.ndarray, limit: float, horizon_s: float = 6 * 3600.0
) -> ThresholdEta:
    """Seconds from the last point until the forecast reaches `limit` (crossing from either side)."""
    forecast = fit_forecast(values, timestamps, horizon_s)
    last = float(np.asarray(values, dtype=np.float64)[-1])
    path = np.asarray(forecast.values)
    crossed = path >= limit if last < limit else path <= limit
    if last == limit:
        return ThresholdEta(seconds=0.0, crossing_time=float(timestamps[-1]), forecast=forecast)
    hits = np.flatnonzero(crossed)
    if not hits.size:
        return ThresholdEta(seconds=None, crossing_time=None, forecast=forecast)
    k = int(hits[0])
    before = last if k == 0 else float(path[k - 1])
    # interpolate linearly inside the step where the crossing happens
    fraction = (limit - before) / (float(path[k]) - before) if path[k] != before else 1.0
    seconds = forecast.step_s * (k + fraction)
    return ThresholdEta(seconds=seconds, crossing_time=float(timestamps[-1]) + seconds, forecast=forecast)
