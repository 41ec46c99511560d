"""The watch loop: `run_step(now, series_subset)` reads every signal once, scores each series with its
own streaming detector, applies the persistence rule per service and the saturation forecasts, and
returns the incidents to open. `checkpoint()` saves every state to the `WatchStateStore`; a loop
built on the same store resumes where the last checkpoint left off (no relearning).

Shards are made of services ("namespace/service"): every series of a service is scored by the same
replica, so the persistence rule sees all of them. `series_subset` names the services a replica
owns (None: all it reads).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime

from agent.runbook import Runbook
from server.watch import signals
from server.watch.codec import detector_state, restore_detector
from server.watch.config import WatchConfig
from server.watch.detection import Detection, SeriesEvidence
from server.watch.persistence import Episode, Track, dump, how_far, load_episode, load_track
from server.watch.proposal import forecast_proposal
from server.watch.saturation import Eta, SaturationHistory
from server.watch.store import WatchStateStore
from tools.anomaly.detector import DetectorConfig
from tools.anomaly.streaming import StreamingDetector
from tools.metrics.client import MetricsBackend

_RESOURCE = {"cpu_vs_limit": "cpu", "memory_vs_limit": "memory"}


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


class WatchLoop:
    """One replica's detection state and its step."""

    def __init__(
        self,
        config: WatchConfig,
        backend: MetricsBackend,
        store: WatchStateStore,
        *,
        detector: DetectorConfig | None = None,
        runbook: Runbook | None = None,
    ) -> None:
        self.config, self.backend, self.store, self.runbook = config, backend, store, runbook
        self.detector_cfg = detector or DetectorConfig()
        self.promql = signals.queries(config.namespaces, config.window)
        self.detectors: dict[str, StreamingDetector] = {}
        self.tracks: dict[str, Track] = {}
        self.episodes: dict[str, Episode] = {}
        self.histories: dict[str, SaturationHistory] = {}
        self.steps = 0
        self.scored = 0  # series updates since the start, for the throughput benchmark
        self.restore()

    # -- checkpoints ---------------------------------------------------------------------------
    def restore(self) -> None:
        capacity = self.config.forecast.history_points
        for key, text in self.store.load(self.config.shard).items():
            kind, _, name = key.partition("|")
            if kind == "detector":
                self.detectors[name] = restore_detector(json.loads(text), self.detector_cfg)
            elif kind == "track":
                self.tracks[name] = load_track(text)
            elif kind == "episode":
                self.episodes[name] = load_episode(text)
            elif kind == "history":
                self.histories[name] = SaturationHistory.restore(text, capacity)
            elif kind == "loop":
                self.steps = int(json.loads(text)["steps"])

    def states(self) -> dict[str, str]:
        out = {f"detector|{k}": json.dumps(detector_state(d)) for k, d in self.detectors.items()}
        out |= {f"track|{k}": dump(v) for k, v in self.tracks.items()}
        out |= {f"episode|{k}": dump(v) for k, v in self.episodes.items()}
        out |= {f"history|{k}": h.state() for k, h in self.histories.items()}
        out["loop|"] = json.dumps({"steps": self.steps})
        return out

    def checkpoint(self) -> None:
        self.store.save(self.config.shard, self.states())

    # -- the step ------------------------------------------------------------------------------
    def run_step(self, now: datetime, series_subset: Collection[str] | None = None) -> list[Detection]:
        """Read every signal at `now` and score the services of `series_subset` (None: all)."""
        reading = signals.read(self.backend, self.promql, now)
        return self.score(now, reading, series_subset)

    def score(
        self, now: datetime, reading: signals.Reading, series_subset: Collection[str] | None = None
    ) -> list[Detection]:
        """The scoring half of a step, on values already read (what the throughput bench times)."""
        t = now.timestamp()
        rule = self.config.persistence
        touched: dict[str, list[str]] = {}
        for key in sorted(reading.values):
            value = reading.values[key]
            service, signal = signals.split_series(key)
            if series_subset is not None and service not in series_subset:
                continue
            detector = self.detectors.get(key)
            if detector is None:
                detector = self.detectors[key] = StreamingDetector(self.detector_cfg)
            score = detector.update(t, value)
            self.scored += 1
            self.tracks.setdefault(key, Track()).update(t, score, value, signal, rule)
            touched.setdefault(service, []).append(key)
            if signal in _RESOURCE:
                history = self.histories.get(key)
                if history is None:
                    history = self.histories[key] = SaturationHistory(self.config.forecast.history_points)
                history.push(t, value)
        self.steps += 1
        found: list[Detection] = []
        for service, keys in sorted(touched.items()):
            found += self._anomaly(now, service, keys)
            found += self._forecasts(now, service, keys, reading.pods.get(service, 0))
        return found

    def _anomaly(self, now: datetime, service: str, keys: list[str]) -> list[Detection]:
        rule = self.config.persistence
        tracks = {k: self.tracks[k] for k in keys}
        persistent = [
            k
            for k, tr in tracks.items()
            if self.detectors[k]._seen >= rule.warmup_points and tr.persistent(rule)
        ]
        episode = self.episodes.setdefault(service, Episode())
        if not episode.step(bool(persistent), any(tr.over() for tr in tracks.values()), rule.quiet_steps):
            return []
        evidence = [
            SeriesEvidence(
                signal=signals.split_series(k)[1],
                score=round(tracks[k].peak, 4),
                steps_over=tracks[k].recent.bit_count(),
                since=_utc(tracks[k].since or now.timestamp()),
                value=tracks[k].value,
                calm_value=tracks[k].calm_value,
            )
            for k in sorted(persistent, key=lambda k: -tracks[k].peak)
        ]
        first = min(e.since for e in evidence)
        parts = [f"{e.signal} {how_far(tracks[f'{service}:{e.signal}'])}" for e in evidence]
        reason = (
            f"{', '.join(parts)}: over the detector's threshold on {rule.k}+ of the last {rule.n} steps"
            f" since {first.isoformat().replace('+00:00', 'Z')}"
        )
        namespace, _, name = service.partition("/")
        return [
            Detection(
                opened_at=now,
                namespace=namespace,
                service=name,
                kind="anomaly",
                reason=reason,
                evidence=evidence,
            )
        ]

    def _forecasts(self, now: datetime, service: str, keys: list[str], pods: int) -> list[Detection]:
        rule = self.config.forecast
        out: list[Detection] = []
        for key in keys:
            resource = _RESOURCE.get(signals.split_series(key)[1])
            history = self.histories.get(key)
            if resource is None or history is None:
                continue
            eta = history.eta(rule)
            episode = self.episodes.setdefault(f"{service}#{resource}", Episode())
            # a forecast is re-judged every `every_steps`; the warning's episode closes after a quiet spell
            quiet = max(1, self.config.persistence.quiet_steps // rule.every_steps)
            if history.steps % rule.every_steps == 0 and episode.step(
                eta is not None, eta is not None, quiet
            ):
                assert eta is not None
                out.append(self._warning(now, service, resource, eta, pods))
        return out

    def _warning(self, now: datetime, service: str, resource: str, eta: Eta, pods: int) -> Detection:
        namespace, _, name = service.partition("/")
        share = self.config.forecast.limit_share
        proposal = None
        if self.runbook is not None:
            proposal = forecast_proposal(self.runbook, resource, namespace, name, pods, share)
        minutes = eta.seconds / 60
        reason = (
            f"{resource} of its busiest pod at {eta.value:.0%} of the limit, forecast ({eta.model}) to reach "
            f"{share:.0%} in {minutes:.0f} min (at {_utc(eta.at + eta.seconds).isoformat().replace('+00:00', 'Z')})"
        )
        if proposal is not None and proposal.action is not None:
            reason += (
                f"; proposed: {proposal.action.kind} {proposal.action.target} {proposal.action.params or ''}"
            )
        return Detection(
            opened_at=now,
            namespace=namespace,
            service=name,
            kind="saturation_forecast",
            reason=reason.rstrip(),
            time_to_limit_s=round(eta.seconds, 1),
            resource=resource,
            proposal=proposal,
        )
