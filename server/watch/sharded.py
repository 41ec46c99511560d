"""The watch inside `medic serve`: every step, the shards this replica holds are scored and what
persisted is opened as an incident.

A step renews the leases (`ShardLeases.refresh`), reads every signal once, and hands each held shard's
services to that shard's own `WatchLoop`, whose states are checkpointed under the shard's name
(`PostgresWatchStateStore`, fenced by the lease). A shard taken over gets a loop restored from the last
checkpoint its previous holder saved; a shard given back to rebalance is checkpointed first, so the
taker continues exactly; a shard lost to a takeover (this replica stalled past its lease) is dropped
without saving. Stopping checkpoints every shard and releases the leases, so the others take over at
their next step.

A detection whose opening fails is kept and retried at the following steps (`PendingOpenings`): its
loop's episode stays open, so the loop will not detect that trouble again until it calms down.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from agent.runbook import Runbook, load_runbook
from server.service_config import ServeWatchConfig
from server.watch import signals
from server.watch.detection import Detection
from server.watch.loop import WatchLoop
from server.watch.pending import GIVE_UP_AFTER, OpenDetection, PendingOpenings
from server.watch.pg_state import LeaseLost, PostgresWatchStateStore
from server.watch.shards import ShardLeases, shard_name, shard_of
from server.watch.store import Afresh, WatchStateStore
from tools.config import ToolsConfig
from tools.errors import ConfigurationError
from tools.metrics.client import SETTING, MetricsBackend, PrometheusBackend

log = logging.getLogger("medic.watch")


def _now() -> datetime:
    return datetime.now(UTC)


class ShardedWatch:
    """This replica's part of the watch: `step()` once, or `start()` a thread that steps every step_s."""

    def __init__(
        self,
        config: ServeWatchConfig,
        leases: ShardLeases,
        store: WatchStateStore,
        backend: MetricsBackend,
        open_detection: OpenDetection,
        *,
        runbook: Runbook | None = None,
        clock: Callable[[], datetime] = _now,
        give_up_after: timedelta = GIVE_UP_AFTER,
    ) -> None:
        self.config, self.leases, self.store, self.backend = config, leases, store, backend
        self.runbook, self.clock = runbook, clock
        # Per replica, not per shard: a shard lost or given back keeps its pending openings here. The
        # loop that made them checkpointed its episode as open and the checkpoint does not carry the
        # pending opening, so the taker will not detect that trouble again: only this replica opens it.
        # If this replica dies with some pending, they are lost; acceptable because an intake failing
        # for a database outage mostly means the checkpoint (same database) failed too, and the taker,
        # restored from before the detection, detects again if the trouble lasts. A stopping replica
        # tries them once more and logs each one it loses.
        self.openings = PendingOpenings(open_detection, clock, give_up_after)
        self.promql = signals.queries(config.loop.namespaces, config.loop.window)
        self.loops: dict[int, WatchLoop] = {}
        self.steps = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> list[Detection]:
        """Renew and rebalance the leases, score the held shards at `now`, open what persisted."""
        held = self.leases.refresh(before_release=self._save_and_drop)
        for shard in set(self.loops) - held:  # taken over by another replica: its checkpoint is theirs
            del self.loops[shard]
        for shard in sorted(held - set(self.loops)):
            self.loops[shard] = self._loop_for(shard)
        # before reading Prometheus, so its outage delays no retry; after the leases, so a database
        # outage fails the step once instead of each retry timing out on it
        self.openings.retry()
        if not held:
            return []
        now = self.clock()
        reading = signals.read(self.backend, self.promql, now)
        services: dict[int, set[str]] = {}
        for key in reading.values:
            service = signals.split_series(key)[0]
            services.setdefault(shard_of(service, self.config.shards.count), set()).add(service)
        found: list[Detection] = []
        for shard, loop in sorted(self.loops.items()):
            found += loop.score(now, reading, services.get(shard, set()))
        self.openings.open(found)  # a failed one is retried at the next steps
        self.steps += 1
        if self.steps % self.config.loop.checkpoint_every == 0:
            self._save(sorted(self.loops))
        return found

    def _loop_for(self, shard: int) -> WatchLoop:
        """A loop for the shard, restored from its last checkpoint (empty for a shard never saved)."""
        name = shard_name(shard, self.config.shards.count)
        loop_config = self.config.loop.model_copy(update={"shard": name})
        try:
            return WatchLoop(loop_config, self.backend, self.store, runbook=self.runbook)
        except ValueError:  # a checkpoint this version cannot read must not stop the watch for good
            log.exception("the checkpoint of watch shard %s is unreadable: it starts afresh", name)
            return WatchLoop(loop_config, self.backend, Afresh(self.store), runbook=self.runbook)

    def _save(self, shards: list[int]) -> None:
        for shard in shards:
            loop = self.loops.get(shard)
            if loop is None:
                continue
            try:
                loop.checkpoint()
            except LeaseLost:
                log.warning("watch shard %s was taken over before it was saved; dropped", shard)
                self.loops.pop(shard, None)

    def _save_and_drop(self, shards: list[int]) -> None:
        """Called before shards are given back to rebalance: the taker continues from this save."""
        self._save(shards)
        for shard in shards:
            self.loops.pop(shard, None)

    # -- in the background -------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="medic-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the step under way, save every shard, give the leases back."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self.openings.retry()  # a last chance: whoever takes the shards over will not open them
        self.openings.abandon("the watch stopped")
        try:
            self._save(sorted(self.loops))
            self.leases.release()
        except Exception:  # the database is away: the leases run out and the others take over then
            log.exception("saving and releasing the watch shards failed")
        self.loops.clear()

    def _run(self) -> None:
        step_s = self.config.loop.step_s
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.step()
            except Exception:  # Prometheus or the database briefly away: the next step tries again
                log.exception("watch step failed")
            self._stop.wait(max(0.0, step_s - (time.monotonic() - started)))


@contextlib.contextmanager
def running_watch(
    config: ServeWatchConfig,
    engine: Engine,
    tools: ToolsConfig,
    runbook_file: Path,
    open_detection: OpenDetection,
) -> Iterator[ShardedWatch]:
    """This replica's watch, stepping in the background until the block ends (then saved and released)."""
    if not tools.prometheus_url:
        raise ConfigurationError(f"MEDIC_WATCH_ENABLED needs a Prometheus to watch: set {SETTING}")
    backend = PrometheusBackend(tools.prometheus_url, tools.timeout_s)
    leases = ShardLeases(engine, config.shards)
    store = PostgresWatchStateStore(engine, leases.owner)
    watch = ShardedWatch(config, leases, store, backend, open_detection, runbook=load_runbook(runbook_file))
    watch.start()
    try:
        yield watch
    finally:
        watch.stop()
        backend.close()
