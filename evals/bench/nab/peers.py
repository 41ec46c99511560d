"""Peer detectors run side by side with ours, each causal: trained on the probation rows only.

- `iforest`: PyOD IsolationForest on sliding windows (the last `lag` values, minus their mean),
  fitted on the windows inside the probation period, then scoring each window ending at row i
  (`predict_proba`, "unify" mapping to [0, 1]).
- `stl_residual`: statsmodels STL fitted on the probation rows gives a seasonal profile by phase;
  a point's residual is its value minus that phase's seasonal value minus the median of the last
  `level_window` values, scaled by the probation residuals' MAD; score = |z| / (1 + |z|).
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pyod.models.iforest import IForest
from statsmodels.tsa.seasonal import STL

from evals.bench.nab.scorer import probation_length

DAY_S = 86_400.0


def iforest_scores(values: np.ndarray, seed: int = 0, lag: int = 10) -> np.ndarray:
    """IsolationForest on lag windows; rows before the first full window score 0."""
    x = np.asarray(values, dtype=np.float64)
    windows = sliding_window_view(x, lag)
    features = windows - windows.mean(axis=1, keepdims=True)
    features = np.column_stack([features, windows.mean(axis=1)])
    train = max(int(probation_length(x.size)) - lag + 1, 10)
    model = IForest(n_estimators=100, random_state=seed)
    model.fit(features[:train])
    out = np.zeros(x.size)
    with (
        warnings.catch_warnings()
    ):  # a flat probation (e.g. art_flatline) has zero spread: "unify" divides by it
        warnings.simplefilter("ignore", RuntimeWarning)
        proba = model.predict_proba(features, method="unify")[:, 1]
    out[lag - 1 :] = np.nan_to_num(proba, nan=0.0)
    return out


def stl_residual_scores(values: np.ndarray, timestamps: np.ndarray, level_window: int = 50) -> np.ndarray:
    """Causal STL-residual z-score mapped to [0, 1]."""
    x = np.asarray(values, dtype=np.float64)
    n_train = max(int(probation_length(x.size)), 20)
    step = float(np.median(np.diff(timestamps)))
    period = int(min(max(round(DAY_S / step), 2), n_train // 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = STL(x[:n_train], period=period, robust=True).fit()
    profile = np.array([np.mean(fit.seasonal[k::period]) for k in range(period)])
    deseason = x - profile[np.arange(x.size) % period]
    level = np.empty(x.size)
    level[0] = deseason[0]
    for i in range(1, min(level_window, x.size)):
        level[i] = np.median(deseason[:i])
    if x.size > level_window:
        level[level_window:] = np.median(sliding_window_view(deseason, level_window)[:-1], axis=1)
    residual = deseason - level
    scale = 1.4826 * np.median(np.abs(fit.resid - np.median(fit.resid))) + 1e-9 * (1.0 + np.abs(x).mean())
    z = np.abs(residual) / scale
    return z / (1.0 + z)
