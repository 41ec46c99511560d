"""Two watch replicas on one PostgreSQL, stepped by a clock the test moves, reading a loopback
Prometheus: they score disjoint halves of the services, and when one falls silent the other takes
its shards over and continues each detector from the checkpoint the silent one saved: a fault that
begins right after the takeover is opened, through the alert intake, within a few steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server.deps import Services
from server.service_config import ServeWatchConfig, ShardConfig
from server.store.engine import database_url, open_engine
from server.store.incidents import IncidentStore
from server.store.queue import WorkQueue
from server.watch import signals
from server.watch.config import WatchConfig
from server.watch.detection import Detection
from server.watch.intake import group_key, open_detected
from server.watch.pending import OpenDetection
from server.watch.pg_state import PostgresWatchStateStore
from server.watch.sharded import ShardedWatch
from server.watch.shards import ShardLeases, shard_name
from tests.server.watch.prometheus_stub import prometheus_stub
from tools.metrics.client import PrometheusBackend

CONFIG = ServeWatchConfig(
    loop=WatchConfig(namespaces=["shop"], step_s=30, checkpoint_every=20),
    shards=ShardConfig(count=8, lease_s=60),
)
LEARN_STEPS = 240  # a multiple of checkpoint_every: a's last step is saved


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def engine(fresh_postgres_dsn: str, tmp_path: Path) -> Engine:
    return open_engine(database_url(fresh_postgres_dsn, tmp_path))


def _watch(engine: Engine, owner: str, clock: Clock, url: str, opened: OpenDetection) -> ShardedWatch:
    leases = ShardLeases(engine, CONFIG.shards, owner=owner, clock=clock)
    store = PostgresWatchStateStore(engine, owner, clock)
    return ShardedWatch(CONFIG, leases, store, PrometheusBackend(url, 5), opened, clock=clock)


def _scored(watch: ShardedWatch) -> dict[str, int]:
    """series key -> points its detector has seen, over the shards the replica holds."""
    return {key: d._seen for loop in watch.loops.values() for key, d in loop.detectors.items()}


def _services(watch: ShardedWatch) -> set[str]:
    return {signals.split_series(key)[0] for key in _scored(watch)}


def test_two_replicas_split_the_services_and_the_survivor_continues_the_silent_ones(engine: Engine) -> None:
    clock = Clock()
    services = Services(store=IncidentStore(engine, clock), queue=WorkQueue(engine, clock), grants=[])
    opened: list[Detection] = []

    def open_through_the_intake(detection: Detection) -> None:
        opened.append(detection)
        open_detected(services, detection)

    with prometheus_stub(services=6) as prom:
        a, b = (_watch(engine, owner, clock, prom.url, open_through_the_intake) for owner in "ab")
        for _ in range(LEARN_STEPS):  # two hours: long enough for the detectors to know the services
            a.step()
            b.step()
            clock.now += timedelta(seconds=30)
        assert len(a.leases.held) == len(b.leases.held) == 4
        assert _services(a) | _services(b) == set(prom.keys()) and not _services(a) & _services(b)

        before = _scored(a)  # a checkpointed at its last step and goes silent (killed: no goodbye)
        for _ in range(2):  # within a's lease, b keeps to its half
            b.step()
            clock.now += timedelta(seconds=30)
        assert _services(b).isdisjoint(_services(a))
        clock.now += timedelta(seconds=1)  # a's lease of 60 s ran out
        b.step()
        assert b.leases.held == frozenset(range(8)) and _services(b) == set(prom.keys())
        # each of a's series went on from a's last checkpoint (one point later), not from scratch
        after = _scored(b)
        assert before and all(after[key] == seen + 1 for key, seen in before.items())

        # a fault now, in one of a's services: b knows its normal from a's two hours and sees it at
        # once (a relearning detector would take two hours to call anything abnormal)
        faulty = sorted(_services(a))[0]
        prom.fault = (faulty.split("/")[1], clock.now.timestamp())
        for _ in range(8):
            clock.now += timedelta(seconds=30)
            b.step()
    assert [(f"{d.namespace}/{d.service}", d.kind) for d in opened] == [(faulty, "anomaly")]
    incident = services.store.find_group(group_key(opened[0]))
    assert incident is not None and incident.opened_by == "medic-watch"


def test_an_unreadable_checkpoint_starts_its_shard_afresh_instead_of_stopping_the_watch(
    engine: Engine,
) -> None:
    clock = Clock()
    with prometheus_stub(services=3) as prom:
        watch = _watch(engine, "a", clock, prom.url, lambda _d: None)
        for shard in watch.leases.refresh():  # as an older version might have left them
            watch.store.save(shard_name(shard, 8), {"detector|shop/svc-0:request_rate": "{not json"})
        watch.step()
    assert set(watch.loops) == set(range(8)) and _services(watch) == set(prom.keys())
    assert set(_scored(watch).values()) == {1}  # every series from its first point
