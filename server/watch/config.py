"""What the watch loop is told: namespaces, cadence, the persistence rule and the forecast horizon.

Built from the settings (`Settings.watch_config`); other modules take this object, never the
environment.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.metrics.templates import DURATION_PATTERN, NAME_PATTERN


class PersistenceRule(BaseModel):
    """When a series' anomaly becomes a service's incident.

    Onset: the detector's score reaches `threshold` (0.5: a tail probability of 1e-5 on the
    likelihood scale, HTM's "red"); the value just before is the series' calm value. The score only
    marks the onset (the likelihood's 10-point moving average keeps a single blip raised for about
    10 steps, as long as a real shift, and then adapts), so persistence is judged on the value: a
    step counts when the value stays materially away from the calm value (by at least `min_change`
    of it and at least the signal's absolute floor: an error ratio from 1.0% to 1.2% is not one). The series is persistent with `k` counting steps among the
    last `n` since the onset; a run ends when `n` steps in a row did not count.
    No series is judged before its detector has seen `warmup_points` points (early fits are noisy).
    """

    model_config = ConfigDict(frozen=True)

    threshold: float = Field(0.5, gt=0, le=1)
    k: int = Field(4, ge=1, le=64)
    n: int = Field(6, ge=1, le=64)
    quiet_steps: int = Field(20, ge=1, le=10_000, description="calm steps that close an episode")
    min_change: float = Field(0.2, ge=0, le=100, description="relative change from the calm value")
    floors: dict[str, float] = Field(
        default_factory=lambda: {
            "error_ratio": 0.01,
            "callers_error_ratio": 0.01,
            "cpu_vs_limit": 0.05,
            "memory_vs_limit": 0.05,
        },
        description="per signal: the least absolute change that is material",
    )
    warmup_points: int = Field(240, ge=0, le=100_000)

    @model_validator(mode="after")
    def _k_within_n(self) -> Self:
        if self.k > self.n:
            raise ValueError(f"persistence k={self.k} exceeds n={self.n}: no run could ever qualify")
        return self

    def material(self, signal: str, value: float | None, calm: float | None) -> bool:
        if value is None or calm is None:
            return value is not None
        change = abs(value - calm)
        floor = self.floors.get(signal)
        return change >= max(self.min_change * abs(calm), floor or 0.0) and change > 0


class ForecastRule(BaseModel):
    """Warn when CPU or memory of a service's busiest pod is forecast to reach its limit within
    `horizon_s`; the forecast is refitted every `every_steps` steps on the last `history_points`."""

    model_config = ConfigDict(frozen=True)

    horizon_s: float = Field(7200.0, gt=0, le=7 * 86_400.0)
    limit_share: float = Field(
        0.95, gt=0, le=1.0, description="share of the limit that counts as reached (a pod is killed at it)"
    )
    history_points: int = Field(480, ge=10, le=20_000, description="saturation points kept per series")
    min_points: int = Field(40, ge=10, description="points needed before the first forecast")
    every_steps: int = Field(4, ge=1, le=1000)
    min_share: float = Field(
        0.5, ge=0, le=1, description="no forecast for a pod using less than this share of its limit"
    )


class WatchConfig(BaseModel):
    """The loop's configuration; `namespaces` empty means every namespace."""

    model_config = ConfigDict(frozen=True)

    namespaces: list[str] = Field(default_factory=list)
    step_s: float = Field(30.0, ge=1, le=3600, description="seconds between two steps")
    window: str = Field("2m", pattern=DURATION_PATTERN, description="rate window of the queries")
    persistence: PersistenceRule = Field(default_factory=PersistenceRule)
    forecast: ForecastRule = Field(default_factory=ForecastRule)
    checkpoint_every: int = Field(10, ge=1, le=10_000, description="steps between two checkpoints")
    shard: str = Field("all", pattern=NAME_PATTERN, description="the name a replica's states are saved under")

    @model_validator(mode="after")
    def _names(self) -> Self:
        import re

        for ns in self.namespaces:
            if not re.match(NAME_PATTERN, ns):
                raise ValueError(f"namespace {ns!r} is not a Kubernetes name")
        return self
