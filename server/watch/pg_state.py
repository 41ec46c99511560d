"""The watch loop's checkpoints in the service's database (`WatchStateStore` for `medic serve`).

A shard's states live in its lease row (`medic_watch_shards.states`), so the replica that takes a
shard over loads what the previous holder saved last and continues without relearning. A save is
fenced by the lease: it writes only while this replica holds the shard, so a replica that stalled
past its lease (and lost the shard) can never overwrite its successor's checkpoint. PostgreSQL for
replicas; the same SQL on SQLite for the single process that holds every shard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from server.store.schema import watch_shards
from server.watch.shards import parse_shard_name

log = logging.getLogger("medic.watch")


class LeaseLost(RuntimeError):
    """This replica no longer holds the shard it tried to save: another replica carries on with it."""


def _now() -> datetime:
    return datetime.now(UTC)


class PostgresWatchStateStore:
    """`load`/`save` of one shard's states, for shards named by `shard_name` and leased by `owner`."""

    def __init__(self, engine: Engine, owner: str, clock: Callable[[], datetime] = _now) -> None:
        self.engine, self.owner, self.clock = engine, owner, clock

    def load(self, shard: str) -> dict[str, str]:
        index, count = parse_shard_name(shard)
        with self.engine.connect() as conn:
            states = conn.execute(
                select(watch_shards.c.states).where(
                    watch_shards.c.shards == count, watch_shards.c.shard == index
                )
            ).scalar_one_or_none()
        if states is None:
            return {}
        if not isinstance(states, dict) or not all(isinstance(v, str) for v in states.values()):
            log.warning("the checkpoint of %s is not a watch checkpoint: starting it afresh", shard)
            return {}
        return {str(k): v for k, v in states.items()}

    def save(self, shard: str, states: Mapping[str, str]) -> None:
        """Replace the shard's checkpoint; `LeaseLost` when this replica no longer holds the shard."""
        index, count = parse_shard_name(shard)
        with self.engine.begin() as conn:
            saved = conn.execute(
                update(watch_shards)
                .where(
                    watch_shards.c.shards == count,
                    watch_shards.c.shard == index,
                    watch_shards.c.owner == self.owner,
                )
                .values(states=dict(states), saved_at=self.clock(), saved_by=self.owner)
            )
        if saved.rowcount != 1:
            raise LeaseLost(f"{shard} is no longer held by {self.owner}: its checkpoint was not saved")
