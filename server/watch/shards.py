"""The watch's services split between replicas by leases in the service's database.

Every service (`namespace/name`) belongs to one of `count` shards by a stable hash, the same in every
process. A replica holds a shard while its lease (`medic_watch_shards.lease_until`) lies ahead and
renews its leases at every step. Each replica also keeps a member row alive, so all of them know how
many take part and hold about `count / members` shards: one with more than its fair share releases
the excess, one with fewer claims free or expired shards (`FOR UPDATE SKIP LOCKED` on PostgreSQL; the
claim itself is a conditional UPDATE, which keeps SQLite just as exclusive). A replica killed without
a goodbye stops renewing: its leases and its member row run out together, and the next step of a
survivor after that claims its shards, so a shard is watched again within `lease_s + step_s` of the
death. A replica that stops cleanly releases its shards at once.
"""

from __future__ import annotations

import hashlib
import math
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from server.service_config import ShardConfig
from server.store.engine import utc
from server.store.schema import watch_members, watch_shards

Clock = Callable[[], datetime]


def shard_of(key: str, count: int) -> int:
    """The shard of a service key: a hash every process computes alike (not Python's salted `hash`)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def keys_in(keys: Iterable[str], shards: Iterable[int], count: int) -> list[str]:
    """The keys that fall in the given shards, in their given order."""
    held = frozenset(shards)
    return [key for key in keys if shard_of(key, count) in held]


def shard_name(shard: int, count: int) -> str:
    """The name a shard's checkpoint is saved under (a `WatchStateStore` shard)."""
    return f"shard-{shard}-of-{count}"


def parse_shard_name(name: str) -> tuple[int, int]:
    """(shard, count) from `shard_name`; ValueError for any other name."""
    parts = name.split("-")
    if len(parts) != 4 or parts[0] != "shard" or parts[2] != "of":
        raise ValueError(f"{name!r} is not a watch shard name (shard-N-of-COUNT)")
    shard, count = int(parts[1]), int(parts[3])
    if not 0 <= shard < count:
        raise ValueError(f"{name!r}: shard {shard} outside 0..{count - 1}")
    return shard, count


def new_owner() -> str:
    """Unique per process: host name and pid first, so a person reading the table sees which pod."""
    return f"{socket.gethostname()[:150]}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def _now() -> datetime:
    return datetime.now(UTC)


class ShardLeases:
    """This replica's leases: `refresh()` once a step renews, rebalances and returns the shards held."""

    def __init__(self, engine: Engine, config: ShardConfig, owner: str | None = None, clock: Clock = _now):
        self.engine, self.config, self.clock = engine, config, clock
        self.owner = owner or new_owner()
        self.held: frozenset[int] = frozenset()
        self._seeded = False

    def refresh(self, before_release: Callable[[list[int]], None] | None = None) -> frozenset[int]:
        """Announce this replica, renew its leases, give back what exceeds its fair share and claim
        free or expired shards up to it. Returns the shards held until `now + lease_s`.
        `before_release` sees the shards about to be given back while they are still held (to save
        their checkpoints, which the lease fences)."""
        now, lease = self.clock(), timedelta(seconds=self.config.lease_s)
        if not self._seeded:
            self._seed()
        with self.engine.begin() as conn:
            live = self._announce(conn, now, now + lease)
            mine = self._renew(conn, now + lease)
        fair = math.ceil(self.config.count / live)
        if len(mine) > fair:
            excess = sorted(mine)[fair:]
            if before_release is not None:
                before_release(excess)
            mine -= self._release(excess)
        elif len(mine) < fair:
            mine |= self._claim(fair - len(mine), now, now + lease)
        self.held = frozenset(mine)
        return self.held

    def release(self) -> None:
        """Leave: every shard this replica holds is free for the others' next step, and it no longer
        counts as a member."""
        with self.engine.begin() as conn:
            conn.execute(
                update(watch_shards)
                .where(self._of_count(), watch_shards.c.owner == self.owner)
                .values(owner=None, lease_until=None)
            )
            conn.execute(delete(watch_members).where(watch_members.c.owner == self.owner))
        self.held = frozenset()

    def holders(self) -> dict[int, str | None]:
        """Who holds each shard now (None: free or expired), for status and tests."""
        now = self.clock()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(watch_shards.c.shard, watch_shards.c.owner, watch_shards.c.lease_until).where(
                    self._of_count()
                )
            ).all()
        return {r.shard: r.owner if (utc(r.lease_until) or now) > now else None for r in rows}

    # -- steps of refresh ----------------------------------------------------------------------
    def _of_count(self) -> ColumnElement[bool]:
        return watch_shards.c.shards == self.config.count

    def _seed(self) -> None:
        """One row per shard, inserted by whichever replica comes first (the others insert nothing)."""
        rows = [{"shards": self.config.count, "shard": i} for i in range(self.config.count)]
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        with self.engine.begin() as conn:
            conn.execute(dialect.insert(watch_shards).values(rows).on_conflict_do_nothing())
        self._seeded = True

    def _announce(self, conn: Connection, now: datetime, until: datetime) -> int:
        """Keep this replica's member row alive, forget members that stopped renewing, count the rest."""
        conn.execute(delete(watch_members).where(watch_members.c.alive_until < now))
        renewed = conn.execute(
            update(watch_members).where(watch_members.c.owner == self.owner).values(alive_until=until)
        )
        if renewed.rowcount == 0:  # only this process writes its own row: no race on the insert
            conn.execute(
                insert(watch_members).values(owner=self.owner, shards=self.config.count, alive_until=until)
            )
        live = conn.execute(
            select(func.count()).select_from(watch_members).where(watch_members.c.shards == self.config.count)
        ).scalar_one()
        return max(1, int(live))

    def _renew(self, conn: Connection, until: datetime) -> set[int]:
        """Extend every lease still ours. One that ran out but nobody took is still ours (no one else
        watched it meanwhile); one another replica took is gone."""
        result = conn.execute(
            update(watch_shards)
            .where(self._of_count(), watch_shards.c.owner == self.owner)
            .values(lease_until=until)
            .returning(watch_shards.c.shard)
        )
        return set(result.scalars())

    def _release(self, shards: list[int]) -> set[int]:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(watch_shards)
                .where(self._of_count(), watch_shards.c.owner == self.owner, watch_shards.c.shard.in_(shards))
                .values(owner=None, lease_until=None)
                .returning(watch_shards.c.shard)
            )
            return set(result.scalars())

    def _claim(self, wanted: int, now: datetime, until: datetime) -> set[int]:
        claimable = and_(
            self._of_count(), or_(watch_shards.c.owner.is_(None), watch_shards.c.lease_until < now)
        )
        pick = (
            select(watch_shards.c.shard)
            .where(claimable)
            .order_by(watch_shards.c.shard)
            .limit(wanted)
            .with_for_update(skip_locked=True)
        )
        with self.engine.begin() as conn:
            free = list(conn.execute(pick).scalars())
            if not free:
                return set()
            result = conn.execute(
                update(watch_shards)
                .where(claimable, watch_shards.c.shard.in_(free))
                .values(owner=self.owner, lease_until=until)
                .returning(watch_shards.c.shard)
            )
            return set(result.scalars())
