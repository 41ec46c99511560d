"""The audit log (DESIGN §3.3): append-only, hash-chained records of everything the guard does.

Each record carries the hash of the one before it, and its own hash is sha256 over a canonical JSON
of its fields and that previous hash. `verify()` therefore detects an edited record (its hash no
longer matches), a deleted or re-ordered record (a gap in sequence numbers, a broken chain) and a
forged record in the middle (every later hash would have to be rewritten).

What a chain alone cannot detect is a deleted *tail*: drop the last records and what is left is a
valid, shorter chain. So `append` and `verify` return the head (`Anchor`: sequence number and hash);
callers anchor it outside the database (log it, ship it to the SIEM, print it in the incident
report) and pass a remembered anchor back to `verify(anchor=...)`, which then fails if that record
is gone or different. The stores also refuse UPDATE and DELETE with database triggers, which stops
mistakes, not an attacker with the database password; the chain and the anchors are what stop them.

No clock is read here: `AuditLog` takes a clock callable, so replays and tests are exact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Literal, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

AuditKind = Literal["proposal", "decision", "dry_run", "approval", "refusal", "execution", "verification"]
GENESIS_HASH = "0" * 64
_PAGE = 1000


def canonical_json(value: object) -> str:
    """One byte-exact JSON text per value: sorted keys, no blanks, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AlreadyRecorded(Exception):
    """The store refused a second claim to execute the same action id (see audit_store)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuditEntry(_Frozen):
    """What a caller records; the log adds sequence number and hashes."""

    at: AwareDatetime
    kind: AuditKind
    action_id: str = Field(description="the action this concerns ('' for none)")
    actor: str = Field(description="who: a user, or agent:<planner>, or medic")
    channel: str = Field(description="how: slack, api, cli, web, agent, guard")
    payload: dict[str, JsonValue] = Field(default_factory=dict)


class AuditRecord(AuditEntry):
    seq: int = Field(ge=1)
    prev_hash: str
    hash: str

    def expected_hash(self) -> str:
        return record_hash(self, self.seq, self.prev_hash)


class Anchor(_Frozen):
    """The head of the chain, to keep outside the database so a deleted tail shows up."""

    seq: int
    hash: str


def record_hash(entry: AuditEntry, seq: int, prev_hash: str) -> str:
    body = {
        "seq": seq,
        "at": canonical_time(entry.at),
        "kind": entry.kind,
        "action_id": entry.action_id,
        "actor": entry.actor,
        "channel": entry.channel,
        "payload": entry.payload,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def chain(entry: AuditEntry, head: AuditRecord | None) -> AuditRecord:
    """The record that follows `head` (None: the first record). Stores call this under their lock."""
    seq = 1 if head is None else head.seq + 1
    prev_hash = GENESIS_HASH if head is None else head.hash
    return AuditRecord(
        **entry.model_dump(), seq=seq, prev_hash=prev_hash, hash=record_hash(entry, seq, prev_hash)
    )


class AuditStore(Protocol):
    """Where records live. `append` must read the head and insert in one serialised transaction."""

    def append(self, entry: AuditEntry) -> AuditRecord: ...

    def records(
        self, *, after_seq: int = 0, limit: int | None = None, action_id: str | None = None
    ) -> list[AuditRecord]: ...

    def close(self) -> None: ...


class VerifyReport(_Frozen):
    ok: bool
    count: int
    head: Anchor | None
    problems: list[str] = Field(default_factory=list)


class AuditLog:
    def __init__(self, store: AuditStore, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def append(
        self,
        kind: AuditKind,
        *,
        action_id: str,
        actor: str,
        channel: str,
        payload: Mapping[str, object] | None = None,
    ) -> AuditRecord:
        """Record one event now (by the injected clock); returns the record, whose hash is the new head.

        `payload` must be JSON (a ValueError names what is not), e.g. `decision.model_dump(mode="json")`."""
        at = self._clock()
        if at.tzinfo is None:
            raise ValueError("the audit clock must return timezone-aware datetimes")
        body = dict(payload or {})
        try:
            canonical_json(body)  # refuse NaN and non-JSON values before touching the store
        except TypeError as exc:
            raise ValueError(f"audit payload is not JSON: {exc}") from None
        entry = AuditEntry.model_validate(
            {
                "at": at,
                "kind": kind,
                "action_id": action_id,
                "actor": actor,
                "channel": channel,
                "payload": body,
            }
        )
        return self._store.append(entry)

    def show(
        self, *, action_id: str | None = None, limit: int | None = None, after_seq: int = 0
    ) -> list[AuditRecord]:
        """Records in sequence order, optionally only those of one action."""
        return self._store.records(after_seq=after_seq, limit=limit, action_id=action_id)

    def verify(self, anchor: Anchor | None = None) -> VerifyReport:
        """Walk the whole chain; with an `anchor` kept elsewhere, also detect a deleted or rewritten tail."""
        problems: list[str] = []
        previous: AuditRecord | None = None
        count = 0
        anchor_seen = False
        after = 0
        while page := self._store.records(after_seq=after, limit=_PAGE):
            for record in page:
                problems.extend(_check(record, previous))
                if anchor is not None and record.seq == anchor.seq:
                    anchor_seen = True
                    if record.hash != anchor.hash:
                        problems.append(f"seq {record.seq}: hash differs from the anchor (log rewritten)")
                previous, count = record, count + 1
            after = page[-1].seq
        if anchor is not None and not anchor_seen:
            problems.append(f"anchor seq {anchor.seq} is missing: records were deleted from the tail")
        head = Anchor(seq=previous.seq, hash=previous.hash) if previous is not None else None
        return VerifyReport(ok=not problems, count=count, head=head, problems=problems)


def _check(record: AuditRecord, previous: AuditRecord | None) -> list[str]:
    problems = []
    expected_seq = 1 if previous is None else previous.seq + 1
    if record.seq != expected_seq:
        problems.append(
            f"seq {record.seq}: expected seq {expected_seq} (a gap: records deleted or re-ordered)"
        )
    expected_prev = GENESIS_HASH if previous is None else previous.hash
    if record.prev_hash != expected_prev:
        problems.append(f"seq {record.seq}: prev_hash does not match the record before it (chain broken)")
    if record.expected_hash() != record.hash:
        problems.append(f"seq {record.seq}: hash does not match its contents (record edited)")
    return problems
