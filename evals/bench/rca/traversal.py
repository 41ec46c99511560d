"""The published anomaly-traversal baseline of the PetShop paper, reimplemented from its description.

As the data set's README describes it: one robust detector per node, fitted on healthy data, on the
SLO's metric and statistic only (median and median absolute deviation; a series that was constant
flags any change). The window's rows are scored from the violated row on, and the first row where
the target node is anomalous is the one analysed (none: the method answers nothing). A node is
anomalous there when its score is above 5. Root-cause candidates are the anomalous nodes none of
whose callees is anomalous, kept only if a path of anomalous nodes leads from the target down to
them in the call graph (the target itself, when it qualifies, by the empty path), each scored by the
largest sum of anomaly scores over the nodes of such a path. It is told the SLO node and metric.

Details the description leaves open, settled as the paper's code does: fewer than 10 healthy points
(NaN dropped) = no detector (never anomalous); the MAD is unscaled; a MAD of 0 with a varying series
makes any change from the median an infinite score; a missing value scores 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

THRESHOLD = 5.0
MIN_FIT_POINTS = 10
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TraversalInput:
    graph: Mapping[str, Sequence[str]]  # caller -> callees
    target: str  # the node whose SLO was violated
    healthy: Mapping[str, FloatArray]  # node -> healthy values of the SLO's metric and statistic
    window: Mapping[str, FloatArray]  # node -> the window's values, one per row
    first_row: int  # the violated row: the search for an anomalous target starts here


@dataclass(frozen=True)
class Detector:
    """Median/MAD scorer of one node; `constant` when the healthy series never moved."""

    center: float
    scale: float
    constant: bool

    def score(self, values: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            deviation = np.abs(values - self.center)
            scores = deviation if self.constant else deviation / self.scale
        return np.where(np.isnan(scores), 0.0, scores)

    def anomalous(self, values: FloatArray) -> npt.NDArray[np.bool_]:
        return self.score(values) > (0.0 if self.constant else THRESHOLD)


def fit(values: FloatArray) -> Detector | None:
    points = values[~np.isnan(values)]
    if points.size < MIN_FIT_POINTS:
        return None
    if np.std(points) == 0:
        return Detector(float(np.mean(points)), 0.0, constant=True)
    center = float(np.median(points))
    return Detector(center, float(np.median(np.abs(points - center))), constant=False)


def anomalies_at(case: TraversalInput) -> dict[str, float] | None:
    """Scores of the anomalous nodes at the first row (from `first_row`) where the target is
    anomalous; None when it never is."""
    detectors = {n: d for n, values in case.healthy.items() if (d := fit(values)) is not None}
    target = detectors.get(case.target)
    if target is None or case.target not in case.window:
        return None
    flagged = target.anomalous(case.window[case.target])
    rows = [r for r in range(case.first_row, flagged.size) if flagged[r]]
    if not rows:
        return None
    row = rows[0]
    found: dict[str, float] = {}
    for node, detector in detectors.items():
        values = case.window.get(node)
        if values is not None and row < values.size and detector.anomalous(values[row : row + 1])[0]:
            found[node] = float(detector.score(values[row : row + 1])[0])
    return found


def best_path_scores(
    graph: Mapping[str, Sequence[str]], target: str, anomalous: Mapping[str, float]
) -> dict[str, float]:
    """For every node reachable from `target` through anomalous nodes only: the largest sum of
    scores over the nodes of such a simple path (target and node included)."""
    best: dict[str, float] = {}

    def walk(node: str, total: float, on_path: set[str]) -> None:
        if total > best.get(node, -np.inf):
            best[node] = total
        for callee in graph.get(node, ()):
            if callee in anomalous and callee not in on_path:
                walk(callee, total + anomalous[callee], on_path | {callee})

    if target in anomalous:
        walk(target, anomalous[target], {target})
    return best


def traversal_rank(case: TraversalInput) -> list[str]:
    """Root-cause candidates, best first (ties by name); empty when the method finds nothing."""
    anomalous = anomalies_at(case)
    if not anomalous:
        return []
    leaves = [n for n in anomalous if not any(c in anomalous for c in case.graph.get(n, ()))]
    reach = best_path_scores(case.graph, case.target, anomalous)
    kept = {n: reach[n] for n in leaves if n in reach}
    return sorted(kept, key=lambda n: (-kept[n], n))
