"""One database for the incident store and the work queue: SQLite (a file) or PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError

from server.store.schema import metadata


def database_url(url: str | None, state_dir: Path) -> str:
    """SQLAlchemy's URL for `MEDIC_DATABASE_URL` (postgresql://…), else a SQLite file in the state dir."""
    if url is None:
        state_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{state_dir / 'incidents.db'}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return url
    raise ValueError(f"MEDIC_DATABASE_URL must be postgresql://… (got {url.split(':', 1)[0]}://…)")


def open_engine(url: str) -> Engine:
    """An engine with the schema in place. SQLite waits for its write lock instead of failing."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    metadata.create_all(engine)
    add_new_columns(engine)
    return engine


def add_new_columns(engine: Engine) -> None:
    """The store's one kind of migration: a nullable column added to a table after databases with the
    table already existed (`create_all` creates missing tables, never missing columns). Adding a
    nullable column is the same statement on SQLite and PostgreSQL, and is safe while old replicas
    still run; two replicas racing to add it leave one column."""
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in have or not column.nullable:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            try:
                with engine.begin() as conn:
                    conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
            except DBAPIError:  # another replica added it first
                if column.name not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                    raise


def _sqlite_pragmas(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
    # WAL with synchronous=NORMAL: a crash of medic loses nothing committed; only a power cut may
    # lose the last transactions (and never corrupts the file). The audit log keeps its own store.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything this store writes is UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
