"""A detection whose opening fails is not lost: the watch retries it at the following steps, with its
original onset, until the intake takes it; one that keeps failing is given up after the bound, loudly.
The intake is faked at its boundary: a callable failing as a database away would."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from server.service_config import ServeWatchConfig, ShardConfig
from server.store.engine import database_url, open_engine
from server.watch.config import WatchConfig
from server.watch.detection import Detection
from server.watch.pending import GIVE_UP_AFTER, PendingOpenings
from server.watch.pg_state import PostgresWatchStateStore
from server.watch.sharded import ShardedWatch
from server.watch.shards import ShardLeases
from tests.server.watch.prometheus_stub import PrometheusStub, prometheus_stub
from tools.metrics.client import PrometheusBackend

CONFIG = ServeWatchConfig(
    loop=WatchConfig(namespaces=["shop"], step_s=30, checkpoint_every=20),
    shards=ShardConfig(count=4, lease_s=60),
)
STEP = timedelta(seconds=30)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class FlakyIntake:
    """Fails its first `failures` calls as a database away would, then opens (records) each call."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0
        self.opened: list[Detection] = []

    def __call__(self, detection: Detection) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise OperationalError("INSERT INTO incidents", {}, Exception("server closed the connection"))
        self.opened.append(detection)


def _learned_watch(
    prom: PrometheusStub,
    tmp_path: Path,
    clock: Clock,
    intake: FlakyIntake,
    give_up_after: timedelta = GIVE_UP_AFTER,
) -> ShardedWatch:
    """One replica on SQLite (it holds every shard) that has learned two hours of normal."""
    engine = open_engine(database_url(None, tmp_path))
    leases = ShardLeases(engine, CONFIG.shards, owner="a", clock=clock)
    store = PostgresWatchStateStore(engine, "a", clock)
    watch = ShardedWatch(
        CONFIG,
        leases,
        store,
        PrometheusBackend(prom.url, 5),
        intake,
        clock=clock,
        give_up_after=give_up_after,
    )
    for _ in range(240):
        assert watch.step() == []
        clock.now += STEP
    return watch


def _fault_until_detected(prom: PrometheusStub, watch: ShardedWatch, clock: Clock) -> Detection:
    prom.fault = ("svc-1", clock.now.timestamp())
    for _ in range(8):
        clock.now += STEP
        found = watch.step()
        if found:
            assert [(d.service, d.kind) for d in found] == [("svc-1", "anomaly")]
            return found[0]
    raise AssertionError("the fault was not detected within 8 steps")


def test_a_failed_opening_is_retried_until_the_intake_takes_it_with_its_original_onset(
    tmp_path: Path,
) -> None:
    clock, intake = Clock(), FlakyIntake(failures=3)
    with prometheus_stub(services=3) as prom:
        watch = _learned_watch(prom, tmp_path, clock, intake)
        detected = _fault_until_detected(prom, watch, clock)
        assert intake.calls == 1 and not intake.opened and len(watch.openings) == 1
        for _ in range(5):  # two more failures, then the opening at the third retry; no more after it
            clock.now += STEP
            assert watch.step() == []  # step() returns what it detected, not what it retried
    assert intake.calls == 4
    assert intake.opened == [detected] and intake.opened[0].opened_at < clock.now - 3 * STEP
    assert len(watch.openings) == 0


def test_an_opening_failing_past_the_bound_is_given_up_with_an_error_naming_the_service(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="medic.watch")
    clock, intake = Clock(), FlakyIntake(failures=10**6)
    with prometheus_stub(services=3) as prom:
        watch = _learned_watch(prom, tmp_path, clock, intake, give_up_after=timedelta(minutes=2))
        _fault_until_detected(prom, watch, clock)
        for _ in range(6):
            clock.now += STEP
            watch.step()
    # tried when detected, then at 30, 60, 90 and 120 s; past 2 min it is dropped and never tried again
    assert intake.calls == 5 and not intake.opened and len(watch.openings) == 0
    first, *retries, gave_up = [r for r in caplog.records if r.name == "medic.watch"]
    assert first.levelno == logging.ERROR and first.exc_info is not None  # the traceback, once
    assert [r.levelno for r in retries] == [logging.WARNING] * 4
    assert all(r.exc_info is None and "attempt" in r.getMessage() for r in retries)  # a line a retry
    assert gave_up.levelno == logging.ERROR and "shop/svc-1" in gave_up.getMessage()
    assert "5 attempts" in gave_up.getMessage()


def _detection(at: datetime, reason: str) -> Detection:
    return Detection(opened_at=at, namespace="shop", service="svc-1", kind="anomaly", reason=reason)


def test_a_second_detection_of_the_same_group_while_one_is_pending_is_not_a_second_opening() -> None:
    clock, intake = Clock(), FlakyIntake(failures=2)
    openings = PendingOpenings(intake, clock)
    first = _detection(clock.now, "the onset")
    openings.open([first])  # fails
    clock.now += STEP
    openings.retry()  # fails again
    openings.open([_detection(clock.now, "the episode reopened")])  # same group: the pending one stands
    assert len(openings) == 1 and intake.calls == 2
    clock.now += STEP
    openings.retry()
    openings.retry()
    assert intake.opened == [first] and intake.calls == 3 and len(openings) == 0
