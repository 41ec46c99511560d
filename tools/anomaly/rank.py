"""Root-cause ranking: which entity (service, pod, node) most likely caused an incident.

The method, in the order it runs:
1. Each signal is scaled against its baseline in robust sigmas, with a noise floor per kind of
   measurement (`baseline.py`): the points before the onset but for its last minute, or the same
   window a day or a week earlier when those points are too few or already anomalous (`scoring.py`).
   A given onset (an injection's or an alert's recorded time) is known to about a minute, and a
   fault's first minute taken as baseline reads as its usual burstiness (the onset search, which
   finds where the baseline stops being clean, takes each onset it tries as exact).
2. A signal's anomaly score is its sustained peak after onset: the level |z| holds for
   `min_duration_s` and for half the time since the onset (the k-th largest point), one-sided for
   latency and errors (getting faster is not a fault), discounted when the baseline itself swings
   that far about once an hour (a bursty series); the latency and error ratios of nearly idle
   entities are judged on the few requests they were measured on.
3. An entity scores by its most anomalous signal (a fault shows clearly in one place; averaging
   would dilute it with the healthy ones).
4. With a call graph, symptoms are told from causes (`explain.py`): latency and errors propagate to
   callers, traffic both ways, cpu and memory stay local; a symptom is capped just below what
   explains it, so the cause ranks first.

Scores are in robust sigmas, so `anomalous` (top score >= `threshold`) tells "something is wrong"
apart from "nothing stands out" with the same meaning on every metric, trace and log row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tools.anomaly.baseline import FloatArray, NoiseFloors
from tools.anomaly.explain import EntityScores, Explained, explain
from tools.anomaly.scoring import RowScores, ScoringConfig, score_rows
from tools.anomaly.signal_matrix import (
    PROPAGATING_KINDS,
    UPWARD_ONLY_KINDS,
    SeriesKey,
    SignalKind,
    SignalMatrix,
    SignalSource,
    infer_kind,
)

__all__ = [
    "DEFAULT_RANK_CONFIG",
    "PROPAGATING_KINDS",
    "UPWARD_ONLY_KINDS",
    "Candidate",
    "RankConfig",
    "Ranking",
    "SeriesKey",
    "SignalEvidence",
    "SignalKind",
    "SignalMatrix",
    "SignalSource",
    "infer_kind",
    "rank_root_causes",
    "top_score",
]


@dataclass(frozen=True)
class RankConfig:
    """One configuration for every incident; round defaults, not fitted to any benchmark's labels.
    The shipped tool and the RCA benchmark both use `DEFAULT_RANK_CONFIG`, so the benchmark measures
    what ships."""

    threshold: float = 10.0  # robust sigmas; the top score below it means "nothing anomalous"
    min_duration_s: float = 60.0  # an anomaly counts at the level it holds this long (like `for: 1m`)
    sustained_share: float = 0.5  # ... and for this share of the time since the onset
    onset_margin_s: float = 60.0  # the baseline ends this long before the onset (grid points, rounded)
    baseline_peak_allowance: float = 3.0  # sigmas a healthy baseline may reach itself before discounting
    floors: NoiseFloors = field(default_factory=NoiseFloors)  # the smallest scale per noise model
    min_baseline_points: int = 10  # fewer baseline points: the series cannot be judged
    explained_cap: float = 0.9  # an explained entity ranks at most this share of its explainer
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
    against_reference: bool = Field(
        False,
        description="judged against the reference period (a day or a week earlier), not the pre-onset points",
    )
    peak_value: float
    current_value: float = Field(float("nan"), description="the last point of the window (NaN: none)")


class Candidate(BaseModel):
    """One ranked entity."""

    model_config = ConfigDict(frozen=True)

    entity: str
    score: float = Field(description="ranking score in robust sigmas, after graph demotion")
    raw_score: float = Field(description="the entity's most anomalous signal, before graph demotion")
    explained_by: str | None = Field(None, description="anomalous entity that explains this one")
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


@dataclass(frozen=True)
class _Scored:
    """Everything a ranking is made of, before its evidence is written out."""

    rows: RowScores
    kinds: list[SignalKind]
    after: npt.NDArray[np.bool_]
    per_entity: dict[str, list[int]]
    split: EntityScores
    explained: Explained

    @property
    def top(self) -> float:
        return max(self.explained.final.values(), default=0.0)


def _score(
    signals: SignalMatrix,
    onset: float,
    calls: Mapping[str, Sequence[str]] | None,
    cfg: RankConfig,
    end: float | None,
    reference: SignalMatrix | None,
    context: Callable[[SeriesKey], bool] | None,
) -> _Scored:
    times = signals.times
    before = times < onset
    step = _step(times)
    margin = round(cfg.onset_margin_s / step) if step > 0 else 0
    if margin > 0:
        before[np.flatnonzero(before)[-margin:]] = False
    after = (times >= onset) & (times <= (np.inf if end is None else end))
    kinds = [key.resolved_kind for key in signals.keys]
    rows = score_rows(
        signals.keys,
        signals.values,
        before,
        after,
        ScoringConfig(
            threshold=cfg.threshold,
            persistence=_points_for(cfg.min_duration_s, times),
            sustained_share=cfg.sustained_share,
            step_s=_step(times),
            baseline_peak_allowance=cfg.baseline_peak_allowance,
            min_baseline_points=cfg.min_baseline_points,
            floors=cfg.floors,
        ),
        reference.aligned(signals.keys) if reference is not None else None,
    )
    score = rows.score
    per_entity: dict[str, list[int]] = {}
    for i, key in enumerate(signals.keys):
        if context is None or not context(key):
            per_entity.setdefault(key.entity, []).append(i)
    split = EntityScores()
    for entity, members in per_entity.items():
        split.local[entity] = max(
            (score[i] for i in members if kinds[i] not in PROPAGATING_KINDS), default=0.0
        )
        split.latency[entity] = max((score[i] for i in members if kinds[i] == "latency"), default=0.0)
        split.errors[entity] = max((score[i] for i in members if kinds[i] == "errors"), default=0.0)
        split.traffic[entity] = max((score[i] for i in members if kinds[i] == "traffic"), default=0.0)
    explained = explain(split, calls or {}, cfg.threshold, cfg.explained_cap)
    return _Scored(rows, kinds, after, per_entity, split, explained)


def top_score(
    signals: SignalMatrix,
    onset: float,
    calls: Mapping[str, Sequence[str]] | None = None,
    config: RankConfig | None = None,
    reference: SignalMatrix | None = None,
    context: Callable[[SeriesKey], bool] | None = None,
) -> float:
    """The score the ranking at `onset` would put first, without writing its evidence (the onset
    search asks this of many onsets)."""
    return _score(signals, onset, calls, config or DEFAULT_RANK_CONFIG, None, reference, context).top


def rank_root_causes(
    signals: SignalMatrix,
    onset: float,
    calls: Mapping[str, Sequence[str]] | None = None,
    config: RankConfig | None = None,
    end: float | None = None,
    reference: SignalMatrix | None = None,
    context: Callable[[SeriesKey], bool] | None = None,
) -> Ranking:
    """Rank the entities of `signals` as root causes of an incident that started at `onset`.

    The baseline is every point before `onset` but those of its last `onset_margin_s`; the incident
    window runs from `onset` to `end` (default: the last point). `calls` maps a caller to its
    callees; entities absent from it have no known dependencies. `reference` holds the same series
    (matched by key) over other periods (the same window a day and a week earlier, or fault-free
    data): it becomes a series' baseline where the pre-onset points are too few or already anomalous
    against it. Rows for which `context` is true are read but not ranked (a request rate tells how
    many requests a latency was measured on; a busy hour moving it is no evidence).
    """
    cfg = config or DEFAULT_RANK_CONFIG
    scored = _score(signals, onset, calls, cfg, end, reference, context)
    rows, kinds, score = scored.rows, scored.kinds, scored.rows.score
    post_times, post_values = signals.times[scored.after], signals.values[:, scored.after]
    over = rows.judged_z >= cfg.threshold
    ever_over = np.asarray(over.any(axis=1), dtype=bool)
    first_over = np.argmax(over, axis=1) if post_times.size else np.zeros(len(kinds), dtype=np.int64)

    def evidence(i: int) -> SignalEvidence:
        has_post = post_times.size > 0
        peak = int(rows.peak_index[i])
        return SignalEvidence(
            signal=signals.keys[i].signal,
            kind=kinds[i],
            source=signals.keys[i].source,
            detail=signals.keys[i].detail,
            sigmas=_finite_or_zero(float(rows.z[i, peak])) if has_post else 0.0,
            score=float(score[i]),
            started_at=float(post_times[first_over[i]]) if ever_over[i] else None,
            peak_at=float(post_times[peak]) if has_post else None,
            baseline_median=_finite_or_zero(float(rows.baseline_median[i])),
            baseline_peak_sigmas=float(rows.baseline_peak[i]),
            against_reference=bool(rows.against_reference[i]),
            peak_value=float(post_values[i, peak]) if has_post else float("nan"),
            current_value=_last_finite(post_values[i]),
        )

    candidates = []
    for entity, members in scored.per_entity.items():
        # signals that moved alike (to 0.1σ) keep the entity's row order: its own before its callers' view
        best = sorted(members, key=lambda i: -round(float(score[i]), 1))[: cfg.evidence_per_entity]
        candidates.append(
            Candidate(
                entity=entity,
                score=scored.explained.final[entity],
                raw_score=scored.split.raw(entity),
                explained_by=scored.explained.explained_by.get(entity),
                evidence=[evidence(i) for i in best if score[i] > 0] or [evidence(best[0])],
            )
        )
    # of equally strong anomalies (scores capped alike), the one that began first leads: an effect comes after its cause
    candidates.sort(key=lambda c: (-c.score, -c.raw_score, _began(c), c.entity))
    top = candidates[0].score if candidates else 0.0
    return Ranking(
        onset=onset, threshold=cfg.threshold, anomalous=top >= cfg.threshold, candidates=candidates
    )


def _began(candidate: Candidate) -> float:
    """When the candidate's first signal crossed the bar (inf: none did)."""
    return min((e.started_at for e in candidate.evidence if e.started_at is not None), default=math.inf)


def _finite_or_zero(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _last_finite(values: FloatArray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else float("nan")


def _step(times: FloatArray) -> float:
    """The grid's step: the median gap of `times` (0 with fewer than two points)."""
    return float(np.median(np.diff(times))) if times.size > 1 else 0.0


def _points_for(duration_s: float, times: FloatArray) -> int:
    """How many grid points `duration_s` spans (at least 1), from the median step of `times`."""
    step = _step(times)
    return max(1, round(duration_s / step)) if step > 0 else 1
