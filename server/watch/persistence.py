"""The persistence rule (`PersistenceRule`): when a series' anomaly becomes an incident, and the
evidence it carries.

A run starts at a step the detector's score reaches the threshold; from then on each step sets a bit
when the value stays materially away from the calm value it had before. A service opens an incident
the step one of its series has `k` of its last `n` bits set: a blip sets one bit and opens nothing, a
lasting shift opens one incident. The service's episode stays open until its series have been calm
for `quiet_steps`, so one fault is one incident (the intake deduplicates too, while it is open).
"""

from __future__ import annotations

import json
import math

from pydantic import BaseModel, ConfigDict

from server.watch.config import PersistenceRule


class Track(BaseModel):
    """One series' current run (a few numbers: O(1))."""

    model_config = ConfigDict(extra="forbid")

    recent: int = 0  # bit 0 = the latest step: the value was materially away from calm_value
    since: float | None = None  # the run's onset (None: no run)
    peak: float = 0.0  # highest score of the run
    calm_value: float | None = None  # the value before the onset: "how far" is measured from it
    value: float | None = None
    run_steps: int = 0

    def update(self, t: float, score: float, value: float, signal: str, rule: PersistenceRule) -> None:
        if self.since is None and score >= rule.threshold and self.value is not None:
            self.since, self.peak, self.calm_value, self.recent, self.run_steps = t, 0.0, self.value, 0, 0
        self.value = value
        if self.since is None:
            return
        self.peak = max(self.peak, score)
        away = rule.material(signal, value, self.calm_value)
        self.recent = ((self.recent << 1) | int(away)) & ((1 << rule.n) - 1)
        self.run_steps += 1
        if not self.recent and self.run_steps >= rule.n:
            self.since, self.recent, self.run_steps = None, 0, 0

    def persistent(self, rule: PersistenceRule) -> bool:
        return self.since is not None and self.recent.bit_count() >= rule.k

    def over(self) -> bool:
        """The latest step counted (the episode stays open while any series' does)."""
        return bool(self.recent & 1)


class Episode(BaseModel):
    """A service's open episode: from the step it opened until it has been calm for `quiet_steps`."""

    model_config = ConfigDict(extra="forbid")

    open: bool = False
    calm_steps: int = 0

    def step(self, persistent: bool, any_over: bool, quiet_steps: int) -> bool:
        """Advance one step; True when an incident opens now."""
        if not self.open:
            if persistent:
                self.open, self.calm_steps = True, 0
                return True
            return False
        self.calm_steps = 0 if any_over else self.calm_steps + 1
        if self.calm_steps >= quiet_steps:
            self.open, self.calm_steps = False, 0
        return False


def dump(model: BaseModel) -> str:
    return model.model_dump_json()


def load_track(text: str) -> Track:
    return Track.model_validate(json.loads(text))


def load_episode(text: str) -> Episode:
    return Episode.model_validate(json.loads(text))


def how_far(track: Track) -> str:
    """'0.31 (was 0.002)': the value now against the last calm one."""
    now = "?" if track.value is None else f"{track.value:.3g}"
    was = track.calm_value
    return now if was is None or not math.isfinite(was) else f"{now} (was {was:.3g})"
