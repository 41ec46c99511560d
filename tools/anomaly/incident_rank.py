"""From fetched signals to an incident's ranking: the onset search, the graph, and pod faults.

Why search the onset: an alert fires minutes after a fault starts (`for:` clauses, rate windows), and
a fault that already shows in the "baseline" is discounted as normal burstiness by the ranking. The
ranking's top score, as a function of the onset, is a plateau while the onset precedes the fault and
drops once the fault leaks into the baseline; the latest onset on the plateau is the fault's start.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from tools.anomaly.detector import Analysis, analyze
from tools.anomaly.rank import (
    DEFAULT_RANK_CONFIG,
    Candidate,
    RankConfig,
    Ranking,
    SignalMatrix,
    rank_root_causes,
)
from tools.anomaly.signals import FetchedSignals

# Signals that follow load (traffic, CPU in cores) are context, not evidence: a busy hour moves them.
RANKED_SIGNALS = frozenset(
    {
        "error_ratio",
        "latency_p99",
        "callers_error_ratio",
        "callers_latency_p99",
        "cpu_per_request",
        "cpu_throttling",
        "memory_vs_limit",
        "restarts",
        "pod_error_ratio",
        "pressure",
        "not_ready",
        "failed_pods",
    }
)
PLATEAU = 0.9  # an onset whose top score is within this share of the best one is on the plateau
MIN_BASELINE_S = 30 * 60.0
ONSET_STEP_S = 60.0
SHIFT_LEVEL = 2.0  # the detector's level-shift statistic above which an episode is under way
MIN_ONSET_POINTS = 20


def ranked_subset(matrix: SignalMatrix) -> SignalMatrix:
    """The rows that are evidence: the ranked metric signals, and every trace and log series (those
    sources only produce series meant as evidence)."""
    rows = [i for i, k in enumerate(matrix.keys) if k.signal in RANKED_SIGNALS or k.source != "metrics"]
    return SignalMatrix(
        times=matrix.times, keys=[matrix.keys[i] for i in rows], values=matrix.values[rows, :]
    )


def _rank(matrix: SignalMatrix, onset: float, calls: Mapping[str, Sequence[str]], cfg: RankConfig) -> Ranking:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return rank_root_causes(matrix, onset, calls, cfg)


def search_onset(
    matrix: SignalMatrix,
    calls: Mapping[str, Sequence[str]],
    latest: float,
    cfg: RankConfig,
) -> Ranking:
    """The ranking at the latest onset (not after `latest`) whose top score is on the plateau."""
    first = float(matrix.times[0]) + MIN_BASELINE_S
    if latest <= first:
        return _rank(matrix, latest, calls, cfg)
    onsets = np.arange(latest, first - 1e-9, -ONSET_STEP_S)
    rankings = [_rank(matrix, float(t), calls, cfg) for t in onsets]
    tops = [r.candidates[0].score if r.candidates else 0.0 for r in rankings]
    best = max(tops)
    for ranking, top in zip(rankings, tops, strict=True):  # latest first
        if top >= PLATEAU * best:
            return ranking
    return rankings[0]


def rank_incident(
    matrix: SignalMatrix,
    calls: Mapping[str, Sequence[str]],
    latest: float,
    cfg: RankConfig = DEFAULT_RANK_CONFIG,
    onset: float | None = None,
) -> Ranking:
    """The ranking the agent's tool makes and the RCA benchmark measures: the ranked signals of every
    source in `matrix`, with the onset given (as papers evaluate) or searched at or before `latest`
    (as the tool runs, knowing only when the alert fired)."""
    ranked = ranked_subset(matrix)
    if onset is not None:
        return _rank(ranked, onset, calls, cfg)
    return search_onset(ranked, calls, latest, cfg)


def detector_onset(times: np.ndarray, values: np.ndarray) -> float | None:
    """Where the single-series detector sees the episode that is under way at the end begin."""
    ok = ~np.isnan(values)
    if ok.sum() < MIN_ONSET_POINTS:
        return None
    t, v = times[ok], values[ok]
    return episode_onset(t, analyze(v, t))


def episode_onset(times: np.ndarray, analysis: Analysis) -> float | None:
    """The onset from an analysis already made of (finite) `times`, so a caller that also wants the
    scores analyses once."""
    if times.size < MIN_ONSET_POINTS:
        return None
    if analysis.shift[-1] < SHIFT_LEVEL and analysis.score.max() < 0.5:
        return None
    j = int(np.argmax(analysis.score)) if analysis.shift[-1] < SHIFT_LEVEL else times.size - 1
    while j > 0 and analysis.shift[j - 1] >= SHIFT_LEVEL:
        j -= 1
    return float(times[j])


def fold_pods(ranking: Ranking, fetched: FetchedSignals) -> list[Candidate]:
    """Pod candidates stand only when one pod of a service fails while its siblings are healthy; then
    the pod ranks just ahead of its service (it is the more precise answer). Otherwise they fold away:
    a fault shared by every pod is the service's."""
    threshold = ranking.threshold
    by_service: dict[str, list[Candidate]] = {}
    others: list[Candidate] = []
    for c in ranking.candidates:
        if c.entity.startswith("pod/"):
            by_service.setdefault(fetched.pod_service.get(c.entity[4:], "?"), []).append(c)
        else:
            others.append(c)
    solitary: dict[str, Candidate] = {}
    for service, pods in by_service.items():
        hot = [p for p in pods if p.score >= threshold]
        calm = [p for p in pods if p.score < threshold / 2]
        if len(hot) == 1 and len(calm) == len(pods) - 1:
            solitary[service] = hot[0]
    out: list[Candidate] = []
    placed: set[str] = set()
    for c in others:
        pod = solitary.get(c.entity)
        if pod is not None:
            out.append(pod.model_copy(update={"score": max(pod.score, c.score)}))
            placed.add(c.entity)
        out.append(c)
    out += [p for s, p in solitary.items() if s not in placed]
    out.sort(key=lambda c: -c.score)  # stable: a solitary pod stays ahead of its service on a tie
    return out
