"""Audit stores: SQLite (the default, a file) and PostgreSQL (psycopg 3), one `AuditStore` Protocol.

Appends are serialised so two writers can never fork the chain: SQLite takes the database write
lock up front (`BEGIN IMMEDIATE`), PostgreSQL a transaction-scoped advisory lock, before reading the
head. A UNIQUE `prev_hash` backs this up: a second record claiming the same predecessor fails.
Triggers refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL): append-only against mistakes; the
hash chain and external anchors (see `policies/audit.py`) are what detect deliberate tampering.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import psycopg

from policies.audit import AlreadyRecorded, AuditEntry, AuditRecord, AuditStore, canonical_json, chain

_COLUMNS = "seq, at, kind, action_id, actor, channel, payload, prev_hash, hash"
_ADVISORY_KEY = 0x6D65646963  # "medic": one lock for the audit chain

# At most one "sending" execution record per action id: the store, not the caller, makes the claim to
# execute atomic, so two processes resuming the same approval cannot both send the request. (The
# payload is stored as canonical JSON, so the claim is matched as text: no JSON parsing in the index.)
_ONE_SEND = "audit_log_one_send"

_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, action_id TEXT NOT NULL,
    actor TEXT NOT NULL, channel TEXT NOT NULL, payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL UNIQUE, hash TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log (action_id);
CREATE UNIQUE INDEX IF NOT EXISTS audit_log_one_send ON audit_log (action_id)
    WHERE kind = 'execution' AND payload = '{"phase":"sending"}';
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"""

_POSTGRES_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS audit_log (
        seq BIGINT PRIMARY KEY, at TIMESTAMPTZ NOT NULL, kind TEXT NOT NULL, action_id TEXT NOT NULL,
        actor TEXT NOT NULL, channel TEXT NOT NULL, payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL UNIQUE, hash TEXT NOT NULL UNIQUE)""",
    "CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log (action_id)",
    f"""CREATE UNIQUE INDEX IF NOT EXISTS {_ONE_SEND} ON audit_log (action_id)
        WHERE kind = 'execution' AND payload = '{{"phase":"sending"}}'""",
    """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""",
    """CREATE OR REPLACE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
]


def _payload(text: str) -> dict[str, object]:
    """A payload that no longer parses is shown as text; its hash check then fails in verify()."""
    try:
        value = json.loads(text)
    except ValueError:
        return {"unparseable_payload": text}
    return value if isinstance(value, dict) else {"unparseable_payload": text}


def _record(row: tuple[object, ...]) -> AuditRecord:
    seq, at, kind, action_id, actor, channel, payload, prev_hash, hash_ = row
    moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    return AuditRecord.model_validate(
        {
            "seq": seq,
            "at": moment,
            "kind": kind,
            "action_id": action_id,
            "actor": actor,
            "channel": channel,
            "payload": _payload(str(payload)),
            "prev_hash": prev_hash,
            "hash": hash_,
        }
    )


def _row(record: AuditRecord) -> tuple[object, ...]:
    return (
        record.seq,
        record.at.isoformat(),
        record.kind,
        record.action_id,
        record.actor,
        record.channel,
        canonical_json(record.payload),
        record.prev_hash,
        record.hash,
    )


def _query(
    placeholder: str, after_seq: int, limit: int | None, action_id: str | None
) -> tuple[str, list[object]]:
    sql = f"SELECT {_COLUMNS} FROM audit_log WHERE seq > {placeholder}"
    params: list[object] = [after_seq]
    if action_id is not None:
        sql += f" AND action_id = {placeholder}"
        params.append(action_id)
    sql += " ORDER BY seq"
    if limit is not None:
        sql += f" LIMIT {placeholder}"
        params.append(limit)
    return sql, params


class SqliteAuditStore:
    """The default store: one SQLite file (WAL mode, so readers never block the writer)."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()  # one transaction at a time on this connection
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SQLITE_SCHEMA)

    def append(self, entry: AuditEntry) -> AuditRecord:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                record = chain(entry, _record(row) if row else None)
                self._conn.execute(
                    f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", _row(record)
                )
            except sqlite3.IntegrityError as exc:
                self._conn.execute("ROLLBACK")
                if "audit_log.action_id" in str(exc):
                    raise AlreadyRecorded(f"{entry.action_id}: an execution was already claimed") from None
                raise
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return record

    def records(
        self, *, after_seq: int = 0, limit: int | None = None, action_id: str | None = None
    ) -> list[AuditRecord]:
        sql, params = _query("?", after_seq, limit, action_id)
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [_record(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresAuditStore:
    """The production store: PostgreSQL through psycopg 3, appends serialised by an advisory lock."""

    def __init__(self, dsn: str, *, connect_timeout_s: int = 10) -> None:
        self._conn = psycopg.connect(dsn, connect_timeout=connect_timeout_s, autocommit=True)
        self._lock = threading.Lock()
        with self._lock, self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_KEY,))
            for statement in _POSTGRES_SCHEMA:
                self._conn.execute(statement)

    def append(self, entry: AuditEntry) -> AuditRecord:
        try:
            return self._append(entry)
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == _ONE_SEND:
                raise AlreadyRecorded(f"{entry.action_id}: an execution was already claimed") from None
            raise

    def _append(self, entry: AuditEntry) -> AuditRecord:
        with self._lock, self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_KEY,))
            row = self._conn.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
            record = chain(entry, _record(row) if row else None)
            values = list(_row(record))
            values[1] = record.at  # a real timestamptz
            self._conn.execute(
                f"INSERT INTO audit_log ({_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                values,
            )
            return record

    def records(
        self, *, after_seq: int = 0, limit: int | None = None, action_id: str | None = None
    ) -> list[AuditRecord]:
        sql, params = _query("%s", after_seq, limit, action_id)
        with self._lock, self._conn.transaction():
            rows = self._conn.execute(sql, params).fetchall()
        return [_record(tuple(row)) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def open_audit_store(url: str) -> AuditStore:
    """`postgresql://…` → PostgreSQL; `sqlite:///path` or a plain path → SQLite."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresAuditStore(url)
    return SqliteAuditStore(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url)
