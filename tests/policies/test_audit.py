"""Audit log on SQLite and on a real PostgreSQL: the chain verifies; edits, gaps, re-orders and a
deleted tail (given an anchor) are detected; concurrent writers never fork the chain."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from policies.audit import AlreadyRecorded, Anchor, AuditKind, AuditLog, AuditStore
from policies.audit_store import PostgresAuditStore, SqliteAuditStore, open_audit_store

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


class StepClock:
    """A clock that advances one second per reading: deterministic timestamps, no clock reads."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class Backend:
    """One store kind under test, plus raw SQL as someone with database access would run it."""

    def __init__(
        self, name: str, make: Callable[[], AuditStore], run_sql: Callable[[list[str], bool], None]
    ) -> None:
        self.name, self.make, self._run_sql = name, make, run_sql

    def tamper(self, statements: list[str]) -> None:
        """Switch the append-only triggers off first, as a determined tamperer would."""
        self._run_sql(statements, True)

    def run(self, statement: str) -> None:
        self._run_sql([statement], False)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "audit.db"

        def run_sqlite(statements: list[str], disable_triggers: bool) -> None:
            conn = sqlite3.connect(path)
            try:
                if disable_triggers:
                    conn.executescript("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
                for statement in statements:
                    conn.execute(statement)
                conn.commit()
            finally:
                conn.close()

        yield Backend("sqlite", lambda: SqliteAuditStore(path), run_sqlite)
    else:
        dsn = request.getfixturevalue("fresh_postgres_dsn")

        def run_postgres(statements: list[str], disable_triggers: bool) -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                if disable_triggers:
                    conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
                for statement in statements:
                    conn.execute(statement)

        yield Backend("postgres", lambda: PostgresAuditStore(dsn), run_postgres)


KINDS: list[AuditKind] = ["proposal", "decision", "dry_run", "approval", "execution", "verification"]


def fill(log: AuditLog, n: int = 6) -> Anchor:
    record = None
    for i in range(n):
        record = log.append(
            KINDS[i % len(KINDS)],
            action_id=f"act-{i % 2}",
            actor="alice" if i % 3 else "agent:rules",
            channel="slack",
            payload={"i": i, "ratio": 0.1 * i, "text": "ünïcode ✓", "nested": {"b": [1, 2], "a": None}},
        )
    assert record is not None
    return Anchor(seq=record.seq, hash=record.hash)


def test_chain_verifies_and_show_lists_records(backend: Backend) -> None:
    store = backend.make()
    log = AuditLog(store, StepClock())
    head = fill(log)
    report = log.verify(anchor=head)
    assert report.ok, report.problems
    assert (report.count, report.head) == (6, head)
    records = log.show()
    assert [r.seq for r in records] == [1, 2, 3, 4, 5, 6]
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(records))
    assert records[0].at == START + timedelta(seconds=1) and records[2].payload["text"] == "ünïcode ✓"
    assert [r.seq for r in log.show(action_id="act-1")] == [2, 4, 6]
    assert [r.seq for r in log.show(after_seq=4, limit=1)] == [5]
    store.close()
    reopened = AuditLog(backend.make(), StepClock())
    assert reopened.verify(anchor=head).ok  # survives a restart


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log", "TRUNCATE audit_log"]
)
def test_updates_and_deletes_are_refused_by_the_database(backend: Backend, statement: str) -> None:
    if backend.name == "sqlite" and statement.startswith("TRUNCATE"):
        statement = "DELETE FROM audit_log WHERE seq = 1"  # SQLite has no TRUNCATE
    store = backend.make()
    fill(AuditLog(store, StepClock()), 2)
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"):
        backend.run(statement)
    assert AuditLog(store, StepClock()).verify().count == 2
    store.close()


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (["UPDATE audit_log SET payload = '{\"i\":3,\"approved\":true}' WHERE seq = 3"], "seq 3: hash does not match"),
        (["UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"], "seq 2: hash does not match"),
        (["DELETE FROM audit_log WHERE seq = 3"], "seq 4: expected seq 3"),
        (["DELETE FROM audit_log WHERE seq = 1"], "seq 2: expected seq 1"),
        # re-order: swap the contents of records 2 and 3, keeping their sequence numbers
        (["UPDATE audit_log SET seq = 100 WHERE seq = 2", "UPDATE audit_log SET seq = 2 WHERE seq = 3",
          "UPDATE audit_log SET seq = 3 WHERE seq = 100"], "seq 2: prev_hash does not match"),
        (["UPDATE audit_log SET payload = 'not json' WHERE seq = 5"], "seq 5: hash does not match"),
    ],
)  # fmt: skip
def test_tampering_is_detected(backend: Backend, statements: list[str], expected: str) -> None:
    store = backend.make()
    log = AuditLog(store, StepClock())
    head = fill(log)
    backend.tamper(statements)
    report = log.verify(anchor=head)
    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems


def test_a_deleted_tail_needs_the_anchor(backend: Backend) -> None:
    store = backend.make()
    log = AuditLog(store, StepClock())
    head = fill(log)
    backend.tamper(["DELETE FROM audit_log WHERE seq >= 5"])
    assert log.verify().ok  # the chain alone cannot tell: what is left is a valid chain
    report = log.verify(anchor=head)
    assert not report.ok and "anchor seq 6 is missing" in report.problems[0]
    forged = log.append("execution", action_id="act-9", actor="mallory", channel="api")
    assert forged.seq == 5
    report = log.verify(anchor=head)
    assert not report.ok  # a re-grown tail does not reproduce the anchored hash


def test_concurrent_writers_never_fork_the_chain(backend: Backend) -> None:
    stores = [backend.make() for _ in range(3)]
    logs = [AuditLog(store, StepClock()) for store in stores]
    errors: list[BaseException] = []

    def write(log: AuditLog) -> None:
        try:
            for i in range(15):
                log.append("proposal", action_id=f"act-{i}", actor="agent:rules", channel="agent")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(log,)) for log in logs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    report = logs[0].verify()
    assert report.ok and report.count == 45, report.problems
    for store in stores:
        store.close()


def test_clock_must_be_timezone_aware_and_payload_must_be_json(tmp_path: Path) -> None:
    store = open_audit_store(f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(ValueError, match="timezone-aware"):
        AuditLog(store, lambda: datetime(2026, 1, 1)).append(
            "proposal", action_id="a", actor="x", channel="cli"
        )
    with pytest.raises(ValueError):
        AuditLog(store, StepClock()).append(
            "proposal", action_id="a", actor="x", channel="cli", payload={"x": float("nan")}
        )
    with pytest.raises(ValueError, match="not JSON"):
        AuditLog(store, StepClock()).append(
            "proposal", action_id="a", actor="x", channel="cli", payload={"t": START}
        )
    assert AuditLog(store, StepClock()).verify().count == 0


def test_an_action_id_can_be_claimed_for_execution_once(backend: Backend) -> None:
    store = backend.make()
    log = AuditLog(store, StepClock())
    log.append("execution", action_id="act-1", actor="medic", channel="guard", payload={"phase": "sending"})
    with pytest.raises(AlreadyRecorded):
        log.append(
            "execution", action_id="act-1", actor="medic", channel="guard", payload={"phase": "sending"}
        )
    # Other phases of the same action, and the same claim for another action, are ordinary records.
    log.append("execution", action_id="act-1", actor="medic", channel="guard", payload={"phase": "done"})
    log.append("execution", action_id="act-2", actor="medic", channel="guard", payload={"phase": "sending"})
    assert log.verify().ok and log.verify().count == 3
    store.close()
