"""From fetched signals to an incident's ranking: the onset search, the graph, and pod faults.

Why search the onset: an alert fires minutes after a fault starts (`for:` clauses, rate windows), and
a fault that already shows in the "baseline" is discounted as normal burstiness by the ranking. The
ranking's top score, as a function of the onset, is a plateau while the onset precedes the fault and
drops once the fault leaks into the baseline; the latest onset on the plateau is the fault's start.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from tools.anomaly.detector import Analysis, analyze
from tools.anomaly.rank import (
    DEFAULT_RANK_CONFIG,
    Candidate,
    RankConfig,
    Ranking,
    SeriesKey,
    SignalMatrix,
    rank_root_causes,
    top_score,
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
MAX_ONSETS = 90  # a 2-h window's onsets a minute apart; a longer window tries as many, further apart
SHIFT_LEVEL = 2.0  # the detector's level-shift statistic above which an episode is under way
MIN_ONSET_POINTS = 20


# A load-following signal ranked only where the entity lacks the one it stands in for: CPU against
# the limit for a service that reports no request rate (no CPU per request can be computed).
STAND_INS = {"cpu_vs_limit": "cpu_per_request"}


def context_of(matrix: SignalMatrix) -> Callable[[SeriesKey], bool]:
    """Which metric rows of `matrix` are read but not ranked: the request rate (it tells how many
    requests each latency and error ratio of its entity was measured on) and the other signals that
    follow load."""
    present = {(k.entity, k.signal) for k in matrix.keys}

    def context(key: SeriesKey) -> bool:
        if key.source != "metrics" or key.signal in RANKED_SIGNALS:
            return False
        stands_for = STAND_INS.get(key.signal)
        return stands_for is None or (key.entity, stands_for) in present

    return context


def ranked_subset(matrix: SignalMatrix) -> SignalMatrix:
    """The rows the ranking reads: the ranked metric signals, every trace and log series (those
    sources only produce series meant as evidence), and the metric traffic rows as context."""
    context = context_of(matrix)
    rows = [i for i, k in enumerate(matrix.keys) if not context(k) or k.resolved_kind == "traffic"]
    return SignalMatrix(
        times=matrix.times, keys=[matrix.keys[i] for i in rows], values=matrix.values[rows, :]
    )


def _rank(
    matrix: SignalMatrix,
    onset: float,
    calls: Mapping[str, Sequence[str]],
    cfg: RankConfig,
    reference: SignalMatrix | None = None,
) -> Ranking:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return rank_root_causes(matrix, onset, calls, cfg, reference=reference, context=context_of(matrix))


def search_onset(
    matrix: SignalMatrix,
    calls: Mapping[str, Sequence[str]],
    latest: float,
    cfg: RankConfig,
    reference: SignalMatrix | None = None,
) -> Ranking:
    """The ranking at the latest onset (not after `latest`) whose top score is on the plateau. The
    earliest onset tried leaves a baseline of `MIN_BASELINE_S`, or a quarter of a shorter window; at
    most `MAX_ONSETS` are tried (a minute apart up to a 2-h window), so a long window costs no more.
    Each onset tried is taken as exact (no `onset_margin_s`): the search itself finds where the
    baseline stops being clean, and a margin would only move the plateau's end a minute later."""
    cfg = replace(cfg, onset_margin_s=0.0)
    span = latest - float(matrix.times[0]) if matrix.times.size else 0.0
    first = float(matrix.times[0]) + min(MIN_BASELINE_S, span / 4)
    if latest <= first:
        return _rank(matrix, latest, calls, cfg, reference)
    onsets = np.arange(latest, first - 1e-9, -max(ONSET_STEP_S, (latest - first) / MAX_ONSETS))
    aligned = (
        SignalMatrix(times=reference.times, keys=matrix.keys, values=reference.aligned(matrix.keys))
        if reference is not None
        else None
    )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        context = context_of(matrix)
        tops = [top_score(matrix, float(t), calls, cfg, aligned, context) for t in onsets]
    return _rank(matrix, float(onsets[plateau_end(tops)]), calls, cfg, aligned)


def plateau_end(tops: Sequence[float]) -> int:
    """Of the top scores at onsets tried latest first, the index of the latest onset on the plateau.
    A fault's plateau spans every onset before it, so its level is one the top score holds over two
    onsets in a row; a spike at one onset (its baseline ending just before a single burst) is no
    plateau and must not set the bar the others are measured against."""
    held = np.minimum(tops, [*tops[1:], *tops[-1:]])
    best = float(held.max()) if held.size else 0.0
    return next((i for i, level in enumerate(held) if level >= PLATEAU * best), 0)


def rank_incident(
    matrix: SignalMatrix,
    calls: Mapping[str, Sequence[str]],
    latest: float,
    cfg: RankConfig = DEFAULT_RANK_CONFIG,
    onset: float | None = None,
    reference: SignalMatrix | None = None,
) -> Ranking:
    """The ranking the agent's tool makes and the RCA benchmark measures: the ranked signals of every
    source in `matrix`, with the onset given (as papers evaluate; known to about a minute, so the
    baseline ends `onset_margin_s` before it) or searched at or before `latest` (as the tool runs,
    knowing only when the alert fired). `reference` holds the same series over earlier periods (the
    window one day and one week before, or fault-free data; see `rank_root_causes`)."""
    ranked = ranked_subset(matrix)
    if onset is not None:
        return _rank(ranked, onset, calls, cfg, reference)
    return search_onset(ranked, calls, latest, cfg, reference)


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
