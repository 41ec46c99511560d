"""Root-cause ranking: which entity (service, pod, node) most likely caused an incident.

The method, in the order it runs:
1. Each signal is scaled against its own pre-onset baseline in robust sigmas (`baseline.py`).
2. A signal's anomaly score is its sustained peak after onset: the level |z| holds for
   `min_duration_s` (the k-th largest point), one-sided for latency and errors (getting faster is
   not a fault), discounted when the baseline itself already swung that far (a bursty series).
3. An entity scores by its most anomalous signal (a fault shows clearly in one place; averaging
   would dilute it with the healthy ones).
4. With a call graph, symptoms are told from causes: latency, errors and traffic propagate to the
   callers of a failing service, while cpu and memory stay local. A caller whose only anomalies are
   propagating ones, and which calls (directly or not) an anomalous service, is explained by it:
   its score is capped just below the deepest anomalous dependency, so the cause ranks first.

Scores are in robust sigmas, so `anomalous` (top score >= `threshold`) tells "something is wrong"
apart from "nothing stands out" with the same meaning on every metric.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tools.anomaly.baseline import FloatArray, fit_baseline, robust_z, sustained_peak

SignalKind = Literal["resource", "latency", "errors", "traffic", "other"]

# Signals whose anomaly travels from a callee to its callers; the others are local to the entity.
PROPAGATING_KINDS: frozenset[SignalKind] = frozenset({"latency", "errors", "traffic"})
UPWARD_ONLY_KINDS: frozenset[SignalKind] = frozenset({"latency", "errors"})

_KIND_PATTERNS: tuple[tuple[SignalKind, re.Pattern[str]], ...] = (
    ("errors", re.compile(r"err|5xx|fail|timeout", re.I)),
    ("latency", re.compile(r"lat|duration|response_time|p50|p9\d|delay", re.I)),
    ("traffic", re.compile(r"load|rps|qps|request|throughput|traffic|rate", re.I)),
    ("resource", re.compile(r"cpu|mem|throttl|disk|fs_|io_|net|restart|oom|gc", re.I)),
)


def infer_kind(signal: str) -> SignalKind:
    """Guess a signal's kind from its name (`cpu`, `latency_p99`, `error_ratio`, `request_rate`, ...).
    Data whose names say nothing (a data set's own abbreviations) tag `SeriesKey.kind` instead."""
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(signal):
            return kind
    return "other"


SignalSource = Literal["metrics", "traces", "logs"]


@dataclass(frozen=True)
class SeriesKey:
    """Which entity a series belongs to and what it measures; `kind` None = inferred from `signal`.
    `source` says which telemetry it was derived from, `detail` what a person needs to read it (a log
    template, a trace operation); both travel to the evidence unchanged."""

    entity: str
    signal: str
    kind: SignalKind | None = None
    source: SignalSource = "metrics"
    detail: str = ""

    @property
    def resolved_kind(self) -> SignalKind:
        return self.kind if self.kind is not None else infer_kind(self.signal)


@dataclass(frozen=True)
class SignalMatrix:
    """S series on one time grid: `values[i]` is the series `keys[i]` at `times` (NaN = missing)."""

    times: FloatArray
    keys: Sequence[SeriesKey]
    values: FloatArray

    def __post_init__(self) -> None:
        if self.values.ndim != 2 or self.values.shape != (len(self.keys), self.times.shape[0]):
            raise ValueError(
                f"values must have shape (len(keys), len(times)) = ({len(self.keys)}, {len(self.times)}),"
                f" got {self.values.shape}"
            )
        if self.times.size > 1 and not np.all(np.diff(self.times) > 0):
            raise ValueError("times must be strictly increasing")

    def joined(self, *others: SignalMatrix) -> SignalMatrix:
        """This matrix with the rows of `others` (on the same time grid) appended: how the traces' and
        logs' series join the metrics' in one ranking."""
        parts = [self, *others]
        for other in others:
            if other.times.shape != self.times.shape or not np.array_equal(other.times, self.times):
                raise ValueError("joined matrices must share one time grid")
        return SignalMatrix(
            times=self.times,
            keys=[k for m in parts for k in m.keys],
            values=np.vstack([m.values for m in parts]),
        )

    @classmethod
    def from_entities(
        cls, times: npt.ArrayLike, series: Mapping[str, Mapping[str, npt.ArrayLike]]
    ) -> SignalMatrix:
        """Build from `{entity: {signal: values}}`, every series on `times`."""
        keys = [SeriesKey(entity, signal) for entity, signals in series.items() for signal in signals]
        rows = [
            np.asarray(values, dtype=np.float64) for signals in series.values() for values in signals.values()
        ]
        t = np.asarray(times, dtype=np.float64)
        matrix = np.vstack(rows) if rows else np.empty((0, t.size))
        return cls(times=t, keys=keys, values=matrix)


@dataclass(frozen=True)
class RankConfig:
    """One configuration for every incident; round defaults, not fitted to any benchmark's labels.
    The shipped tool and the RCA benchmark both use `DEFAULT_RANK_CONFIG`, so the benchmark measures
    what ships."""

    threshold: float = 10.0  # robust sigmas; the top score below it means "nothing anomalous"
    min_duration_s: float = 60.0  # an anomaly counts at the level it holds this long (like `for: 1m`)
    baseline_peak_allowance: float = 3.0  # sigmas a healthy baseline may reach itself before discounting
    # A change under 5 % of a signal's own level is not an incident, however quiet the line was before.
    min_relative_scale: float = 0.05
    min_baseline_points: int = 10  # fewer pre-onset points: the series cannot be judged
    explained_cap: float = 0.9  # an explained caller ranks at most this share of its explainer
    evidence_per_entity: int = 6


DEFAULT_RANK_CONFIG = RankConfig()


class SignalEvidence(BaseModel):
    """One signal that supports a candidate: how far it moved and when."""

    model_config = ConfigDict(frozen=True)

    signal: str
    kind: SignalKind
    source: SignalSource = "metrics"
    detail: str = ""
    sigmas: float = Field(description="signed robust z at the peak of the post-onset window")
    score: float = Field(description="sustained anomaly score (robust sigmas) used for ranking")
    started_at: float | None = Field(description="first post-onset time at or over the threshold")
    peak_at: float | None
    baseline_median: float
    baseline_peak_sigmas: float = Field(description="how far the series already swung before onset")
    peak_value: float
    current_value: float = Field(float("nan"), description="the last point of the window (NaN: none)")


class Candidate(BaseModel):
    """One ranked entity."""

    model_config = ConfigDict(frozen=True)

    entity: str
    score: float = Field(description="ranking score in robust sigmas, after graph demotion")
    raw_score: float = Field(description="the entity's most anomalous signal, before graph demotion")
    explained_by: str | None = Field(None, description="anomalous dependency that explains this entity")
    evidence: list[SignalEvidence]


class Ranking(BaseModel):
    """Candidates best first; `anomalous` False when nothing crosses the threshold."""

    model_config = ConfigDict(frozen=True)

    onset: float
    threshold: float
    anomalous: bool
    candidates: list[Candidate]

    @property
    def entities(self) -> list[str]:
        return [c.entity for c in self.candidates]


@dataclass
class _EntityScores:
    local: dict[str, float] = field(default_factory=dict)
    propagating: dict[str, float] = field(default_factory=dict)


def rank_root_causes(
    signals: SignalMatrix,
    onset: float,
    calls: Mapping[str, Sequence[str]] | None = None,
    config: RankConfig | None = None,
    end: float | None = None,
) -> Ranking:
    """Rank the entities of `signals` as root causes of an incident that started at `onset`.

    The baseline is every point before `onset`; the incident window runs from `onset` to `end`
    (default: the last point). `calls` maps a caller to its callees; entities absent from it have
    no known dependencies.
    """
    cfg = config or DEFAULT_RANK_CONFIG
    times = signals.times
    before = times < onset
    after = (times >= onset) & (times <= (np.inf if end is None else end))
    values = signals.values
    kinds = [key.resolved_kind for key in signals.keys]

    persistence = _points_for(cfg.min_duration_s, times)
    level = np.nanmax(np.abs(values), axis=1, initial=0.0, where=~np.isnan(values))
    base = fit_baseline(values[:, before], level, cfg.min_relative_scale)
    upward = np.array([kind in UPWARD_ONLY_KINDS for kind in kinds], dtype=bool)[:, None]
    z = robust_z(values[:, after], base)
    directional = np.where(upward, z, np.abs(z))
    post_peak, peak_idx = sustained_peak(directional, persistence)
    # A series that already swung this far before onset is bursty by nature: discount it by how
    # much its own baseline peak exceeds what steady noise reaches.
    z_before = robust_z(values[:, before], base)
    base_peak, _ = sustained_peak(np.where(upward, z_before, np.abs(z_before)), persistence)
    discount = np.maximum(1.0, base_peak / cfg.baseline_peak_allowance)
    judged = np.asarray(base.points >= cfg.min_baseline_points, dtype=bool)
    score = np.where(judged, np.maximum(post_peak, 0.0) / discount, 0.0)

    post_times, post_values = times[after], values[:, after]
    over = judged[:, None] & (directional / discount[:, None] >= cfg.threshold)
    ever_over = np.asarray(over.any(axis=1), dtype=bool)
    first_over = np.argmax(over, axis=1) if post_times.size else np.zeros(len(kinds), dtype=np.int64)

    per_entity: dict[str, list[int]] = {}
    for i, key in enumerate(signals.keys):
        per_entity.setdefault(key.entity, []).append(i)

    split = _EntityScores()
    for entity, rows in per_entity.items():
        split.local[entity] = max((score[i] for i in rows if kinds[i] not in PROPAGATING_KINDS), default=0.0)
        split.propagating[entity] = max(
            (score[i] for i in rows if kinds[i] in PROPAGATING_KINDS), default=0.0
        )

    final, explained_by = _demote_explained(split, calls or {}, cfg)

    def evidence(i: int) -> SignalEvidence:
        has_post = post_times.size > 0
        return SignalEvidence(
            signal=signals.keys[i].signal,
            kind=kinds[i],
            source=signals.keys[i].source,
            detail=signals.keys[i].detail,
            sigmas=float(z[i, peak_idx[i]]) if has_post else 0.0,
            score=float(score[i]),
            started_at=float(post_times[first_over[i]]) if ever_over[i] else None,
            peak_at=float(post_times[peak_idx[i]]) if has_post else None,
            baseline_median=float(np.nan_to_num(base.median[i])),
            baseline_peak_sigmas=float(base_peak[i]),
            peak_value=float(post_values[i, peak_idx[i]]) if has_post else float("nan"),
            current_value=_last_finite(post_values[i]),
        )

    candidates = []
    for entity, rows in per_entity.items():
        best = sorted(rows, key=lambda i: -score[i])[: cfg.evidence_per_entity]
        candidates.append(
            Candidate(
                entity=entity,
                score=final[entity],
                raw_score=max(split.local[entity], split.propagating[entity]),
                explained_by=explained_by.get(entity),
                evidence=[evidence(i) for i in best if score[i] > 0] or [evidence(best[0])],
            )
        )
    candidates.sort(key=lambda c: (-c.score, -c.raw_score, c.entity))
    top = candidates[0].score if candidates else 0.0
    return Ranking(
        onset=onset, threshold=cfg.threshold, anomalous=top >= cfg.threshold, candidates=candidates
    )


def _last_finite(values: FloatArray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else float("nan")


def _points_for(duration_s: float, times: FloatArray) -> int:
    """How many grid points `duration_s` spans (at least 1), from the median step of `times`."""
    if times.size < 2:
        return 1
    step = float(np.median(np.diff(times)))
    return max(1, round(duration_s / step)) if step > 0 else 1


def _demote_explained(
    split: _EntityScores, calls: Mapping[str, Sequence[str]], cfg: RankConfig
) -> tuple[dict[str, float], dict[str, str]]:
    """Final scores after capping callers whose propagating anomaly a dependency explains.

    Entities are settled callees first (depth-first post-order; a back edge of a cycle is
    ignored), so a chain A -> B -> C with C at fault caps B below C and then A below B. A caller
    falls below its explainer and below every anomalous dependency that the explainer explains too.
    """
    final: dict[str, float] = {}
    explained_by: dict[str, str] = {}
    reach: dict[str, set[str]] = {}
    on_stack: set[str] = set()

    def settle(entity: str) -> None:
        on_stack.add(entity)
        descendants: set[str] = set()
        for callee in calls.get(entity, ()):
            if callee in on_stack:
                continue
            if callee not in reach:
                settle(callee)
            descendants |= {callee} | reach[callee]
        on_stack.discard(entity)
        reach[entity] = descendants
        local = split.local.get(entity, 0.0)
        propagating = split.propagating.get(entity, 0.0)
        anomalous_below = [(final[d], d) for d in descendants if d in final and final[d] >= cfg.threshold]
        if anomalous_below and propagating > local:
            _, explainer = max(anomalous_below)
            # Below the explainer and below every caller between it and us that it also explains.
            chain = [score for score, d in anomalous_below if explainer in (d, explained_by.get(d))]
            capped = min(propagating, cfg.explained_cap * min(chain))
            # a symptom even when already below the cap, unless a local signal of its own is anomalous
            if local < cfg.threshold:
                explained_by[entity] = explainer
            final[entity] = max(local, capped)
        else:
            final[entity] = max(local, propagating)

    for entity in sorted(set(split.local) | set(calls)):
        if entity not in reach:
            settle(entity)
    return {e: final[e] for e in split.local}, explained_by
