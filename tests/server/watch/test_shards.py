"""Shards and leases on a real PostgreSQL, with a clock the test moves: the split between replicas,
the takeover of a silent one's shards, and the checkpoint that the taker continues from."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server.service_config import ShardConfig
from server.store.engine import database_url, open_engine
from server.watch.pg_state import LeaseLost, PostgresWatchStateStore
from server.watch.shards import ShardLeases, keys_in, shard_name, shard_of

CONFIG = ShardConfig(count=8, lease_s=60)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_a_service_lands_in_the_same_shard_in_every_process_and_shards_are_even() -> None:
    # Python's own hash() is salted per process: the shard must not be.
    code = "from server.watch.shards import shard_of; print(shard_of('shop/checkout', 32))"
    other = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONHASHSEED": "12345", "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(other.stdout) == shard_of("shop/checkout", 32)

    keys = [f"ns-{n % 7}/service-{n}" for n in range(3200)]
    sizes = Counter(shard_of(key, 32) for key in keys)
    assert set(sizes) == set(range(32))
    assert max(sizes.values()) < 1.4 * 100 and min(sizes.values()) > 0.6 * 100
    held = {0, 5, 9}
    assert keys_in(keys, held, 32) == [k for k in keys if shard_of(k, 32) in held]


@pytest.fixture
def engine(fresh_postgres_dsn: str, tmp_path: Path) -> Engine:
    return open_engine(database_url(fresh_postgres_dsn, tmp_path))


def test_two_replicas_split_the_shards_and_one_takes_over_from_a_silent_one(engine: Engine) -> None:
    clock = Clock()
    a = ShardLeases(engine, CONFIG, owner="a", clock=clock)
    b = ShardLeases(engine, CONFIG, owner="b", clock=clock)
    assert a.refresh() == frozenset(range(8))  # alone: every shard
    assert b.refresh() == frozenset()  # nothing free yet
    assert len(a.refresh()) == 4  # two members now: a gives back its excess ...
    assert len(b.refresh()) == 4  # ... and b takes it on its next step
    assert a.held | b.held == frozenset(range(8)) and not a.held & b.held
    assert a.refresh() == a.held and b.refresh() == b.held  # steady: nobody moves

    # a saves a checkpoint of each of its shards, then goes silent (killed: no release)
    a_store, b_store = (
        PostgresWatchStateStore(engine, "a", clock),
        PostgresWatchStateStore(engine, "b", clock),
    )
    for shard in a.held:
        a_store.save(shard_name(shard, 8), {"shop/checkout:request_rate": f'{{"seen": {shard}}}'})
    with pytest.raises(LeaseLost):  # b cannot write a shard it does not hold
        b_store.save(shard_name(min(a.held), 8), {})

    clock.advance(CONFIG.lease_s - 1)
    assert b.refresh() == b.held and len(b.held) == 4  # a's lease still stands
    clock.advance(2)
    assert b.refresh() == frozenset(range(8))  # a's leases and membership ran out together
    for shard in a.held:  # b continues from what a saved last
        assert b_store.load(shard_name(shard, 8)) == {"shop/checkout:request_rate": f'{{"seen": {shard}}}'}

    # a wakes up (a long pause, not a death): it may no longer overwrite b's checkpoint, and it
    # takes its share back through the same rebalancing
    with pytest.raises(LeaseLost):
        a_store.save(shard_name(min(a.held), 8), {})
    assert a.refresh() == frozenset()
    assert len(b.refresh()) == 4 and len(a.refresh()) == 4


def test_a_replica_that_stops_cleanly_hands_its_shards_over_at_the_next_step(engine: Engine) -> None:
    clock = Clock()
    replicas = [ShardLeases(engine, CONFIG, owner=name, clock=clock) for name in "abc"]
    for _ in range(3):
        for replica in replicas:
            replica.refresh()
    assert sorted(len(r.held) for r in replicas) == [2, 3, 3]
    given_back = replicas[0].held
    replicas[0].release()
    holders = replicas[1].holders()
    assert "a" not in holders.values() and all(holders[s] is None for s in given_back)
    assert replicas[1].refresh() | replicas[2].refresh() == frozenset(range(8))
    assert sorted(len(r.held) for r in replicas[1:]) == [4, 4]
