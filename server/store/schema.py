"""The incident store's tables (SQLAlchemy Core): one schema for SQLite and PostgreSQL.

An incident row is also its unit of work: `work_state`, `lease_owner` and `lease_until` say whether
its LangGraph thread needs running and which replica holds it, so one thread never runs in two
places at once. `wanted` counts requests for work (a new alert, an approval) and `done` the ones a
worker has served: work that arrives while a worker runs is not lost, it makes the row ready again.
`medic_slack_threads` says which Slack message shows which incident (the message is a view: it is
rendered from the incident, never read back).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# SQLite's INTEGER PRIMARY KEY is its rowid (autoincrement); PostgreSQL wants a BIGINT identity.
_SEQ = BigInteger().with_variant(Integer(), "sqlite")

incidents = Table(
    "medic_incidents",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("title", String(500), nullable=False),
    Column("source", String(16), nullable=False),
    Column("namespace", String(253)),
    Column("state", String(32), nullable=False),
    Column("group_key", String(1024), unique=True),
    Column("opened_by", String(200), nullable=False),
    Column("incident", JSON, nullable=False),
    Column("report", JSON),
    Column("pending", JSON, doc="the guard's approval request while the thread waits for one"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("work_state", String(16), nullable=False, default="idle"),
    Column("wanted", Integer, nullable=False, default=0),
    Column("done", Integer, nullable=False, default=0),
    Column("lease_owner", String(200)),
    Column("lease_until", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, default=0),
    Index("medic_incidents_work", "work_state", "lease_until"),
)

timeline = Table(
    "medic_timeline",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("incident_id", String(128), ForeignKey("medic_incidents.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Index("medic_timeline_incident", "incident_id", "seq"),
)

alerts = Table(
    "medic_alerts",
    metadata,
    Column("incident_id", String(128), ForeignKey("medic_incidents.id"), nullable=False),
    Column("fingerprint", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("incident_id", "fingerprint", name="medic_alerts_one"),
)

approvals = Table(
    "medic_approvals",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("incident_id", String(128), ForeignKey("medic_incidents.id"), nullable=False),
    Column("action_id", String(128), nullable=False),
    Column("approver", String(200), nullable=False),
    Column("approval", JSON, nullable=False),
    Column("consumed", Integer, nullable=False, default=0),
    UniqueConstraint("incident_id", "action_id", "approver", name="medic_approvals_one_per_person"),
)

feedback = Table(
    "medic_feedback",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("incident_id", String(128), ForeignKey("medic_incidents.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("by", String(200), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("true_cause", String(500)),
    Column("notes", Text, nullable=False, default=""),
    # added for the memory of past incidents: nullable, so `engine.add_new_columns` adds them in place
    Column("cause_service", String(253)),
    Column("cause_kind", String(64)),
    Column("fixed_by", Text),
)

slack_threads = Table(
    "medic_slack_threads",
    metadata,
    Column("incident_id", String(128), ForeignKey("medic_incidents.id"), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("ts", String(32), doc="the parent message; NULL while the replica that claimed it posts it"),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("synced_at", DateTime(timezone=True), doc="the incident's updated_at the message last showed"),
    Column("shown", String(64), doc="a digest of the blocks last sent, so an unchanged view is not resent"),
    Column("chart_file", String(64), doc="the chart uploaded into the thread, once"),
    UniqueConstraint("channel", "ts", name="medic_slack_threads_message"),
    Index("medic_slack_threads_channel", "channel", "claimed_at"),
)

# Actions proposed through a door (MCP) for the guard of their incident's thread: a worker takes each
# once, hands it to the guard, and records the incident's next rest point.
proposals = Table(
    "medic_proposals",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("incident_id", String(128), ForeignKey("medic_incidents.id"), nullable=False),
    Column("action_id", String(128), nullable=False),
    Column("action", JSON, nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("taken", Integer, nullable=False, default=0),
    Index("medic_proposals_incident", "incident_id", "taken"),
)

# `medic watch` inside `medic serve` (server/watch/shards.py): the services of the watched namespaces
# are split into `shards` fixed shards; a replica holds a shard while `lease_until` lies ahead, renews
# it every step, and keeps the shard's detector checkpoint in the same row, so whoever takes the shard
# over continues from it and a replica that lost the lease can no longer overwrite it.
watch_shards = Table(
    "medic_watch_shards",
    metadata,
    Column("shards", Integer, primary_key=True, doc="the shard count this row belongs to"),
    Column("shard", Integer, primary_key=True),
    Column("owner", String(200)),
    Column("lease_until", DateTime(timezone=True)),
    Column("states", JSON, doc="the watch loop's checkpoint of this shard: {key: JSON text}"),
    Column("saved_at", DateTime(timezone=True)),
    Column("saved_by", String(200)),
)

# The replicas taking part in the watch, so each knows its fair share (shards / live members).
watch_members = Table(
    "medic_watch_members",
    metadata,
    Column("owner", String(200), primary_key=True),
    Column("shards", Integer, nullable=False),
    Column("alive_until", DateTime(timezone=True), nullable=False),
)
