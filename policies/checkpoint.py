"""Where LangGraph threads are checkpointed: SQLite by default, PostgreSQL when configured.

A thread paused at an approval must survive the process, so every graph that can interrupt is
compiled with one of these. Deserialisation is restricted to an explicit allowlist of our own state
models (collected from the roots given), so a tampered checkpoint cannot instantiate arbitrary types.
"""

from __future__ import annotations

import contextlib
import sqlite3
import types
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from pydantic import BaseModel


def model_closure(roots: Iterable[type[BaseModel]]) -> set[tuple[str, str]]:
    """Every pydantic model reachable from `roots` through field annotations, as (module, name)."""
    seen: dict[type, None] = {}

    def visit(annotation: object) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in seen:
                return
            seen[annotation] = None
            for field in annotation.model_fields.values():
                visit(field.annotation)
            return
        for arg in typing.get_args(annotation):
            visit(arg)
        if isinstance(annotation, types.UnionType):
            for arg in annotation.__args__:
                visit(arg)

    for root in roots:
        visit(root)
    return {(model.__module__, model.__qualname__) for model in seen}


def serializer_for(roots: Iterable[type[BaseModel]]) -> JsonPlusSerializer:
    return JsonPlusSerializer(allowed_msgpack_modules=sorted(model_closure(roots)))


@contextlib.contextmanager
def open_checkpointer(
    database_url: str | None, sqlite_path: Path, roots: Iterable[type[BaseModel]]
) -> Iterator[BaseCheckpointSaver[str]]:
    """PostgreSQL when `database_url` is a postgres URL, else SQLite at `sqlite_path` (created)."""
    serde = serializer_for(roots)
    if database_url and database_url.startswith(("postgres://", "postgresql://")):
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection
        from psycopg.rows import dict_row

        with Connection.connect(
            database_url, autocommit=True, prepare_threshold=0, row_factory=dict_row
        ) as pg:
            saver = PostgresSaver(pg, serde=serde)
            saver.setup()
            yield saver
        return
    if database_url:
        raise ValueError(f"unsupported database URL {database_url.split(':', 1)[0]!r}: use postgresql://…")
    from langgraph.checkpoint.sqlite import SqliteSaver

    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(sqlite_path, check_same_thread=False)
    try:
        lite = SqliteSaver(db, serde=serde)
        lite.setup()
        yield lite
    finally:
        db.close()
