"""The watch inside `medic serve`: started and stopped with the service, in-process on SQLite (one
replica holds every shard), and as two real processes on one PostgreSQL that split the shards, one
killed with SIGKILL and the other taking its shards over within the lease bound."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from agent.assemble import AgentConfig
from server.app import create_app
from server.service_config import ServeWatchConfig, ServiceConfig, ShardConfig
from server.store.engine import database_url, open_engine
from server.store.schema import watch_shards
from server.watch.config import WatchConfig
from server.watch.shards import ShardLeases
from tests.server.serve_process import ServeProcess, start_serve
from tests.server.watch.prometheus_stub import prometheus_stub
from tools.config import ToolsConfig


def _rows(engine: Engine) -> list[tuple[int, str | None, str | None]]:
    with engine.connect() as conn:
        query = select(watch_shards.c.shard, watch_shards.c.owner, watch_shards.c.saved_by)
        return [(r.shard, r.owner, r.saved_by) for r in conn.execute(query.order_by(watch_shards.c.shard))]


def test_serve_runs_the_watch_on_every_shard_alone_and_gives_them_back_at_shutdown(tmp_path: Path) -> None:
    watch = ServeWatchConfig(
        loop=WatchConfig(namespaces=["shop"], step_s=1), shards=ShardConfig(count=4, lease_s=5)
    )
    service = ServiceConfig(state_dir=tmp_path, run_worker=False, watch=watch)  # SQLite: one replica
    with prometheus_stub(services=6) as prom:
        agent = AgentConfig(state_dir=tmp_path, tools=ToolsConfig(prometheus_url=prom.url))
        with TestClient(create_app(service, agent)) as client:
            assert client.get("/healthz").status_code == 200
            deadline = time.monotonic() + 20
            while len(prom.queries) < 2 and time.monotonic() < deadline:  # two steps, one time each
                time.sleep(0.05)
            assert len(prom.queries) >= 2
            engine = open_engine(database_url(None, tmp_path))
            owners = {owner for _, owner, _ in _rows(engine)}
            assert len(owners) == 1 and None not in owners  # one replica: every shard is its own
    # shut down: every shard saved by it and free for whoever starts next
    rows = _rows(engine)
    assert [(shard, owner) for shard, owner, _ in rows] == [(i, None) for i in range(4)]
    assert {saved_by for _, _, saved_by in rows} == owners


def _serve_env(run_dir: Path, dsn: str, prometheus: str) -> dict[str, str]:
    run_dir.mkdir(parents=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(run_dir),
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
        "MEDIC_STATE_DIR": str(run_dir),
        "MEDIC_DATABASE_URL": dsn,
        "MEDIC_SERVE_WORKER": "false",
        "MEDIC_PROMETHEUS_URL": prometheus,
        "MEDIC_WATCH_ENABLED": "true",
        "MEDIC_WATCH_NAMESPACES": '["shop"]',
        "MEDIC_WATCH_STEP_S": "1",
        "MEDIC_WATCH_LEASE_S": "2",
        "MEDIC_WATCH_SHARDS": "8",
    }


def _wait(what: str, check: object, timeout_s: float) -> float:
    """Seconds until `check()` is true; fails the test after `timeout_s`."""
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"{what} did not happen within {timeout_s} s")
        time.sleep(0.05)
    return time.monotonic() - started


def test_two_serve_processes_split_the_shards_and_one_takes_over_when_the_other_is_killed(
    fresh_postgres_dsn: str, tmp_path: Path
) -> None:
    engine = open_engine(database_url(fresh_postgres_dsn, tmp_path))
    observer = ShardLeases(engine, ShardConfig(count=8, lease_s=2), owner="observer")  # reads, never joins
    processes: list[ServeProcess] = []
    with prometheus_stub(services=24) as prom:
        try:
            started = time.monotonic()
            with ThreadPoolExecutor(2) as pool:  # both start at once: each import takes seconds
                starting = [
                    pool.submit(
                        start_serve,
                        _serve_env(tmp_path / n, fresh_postgres_dsn, prom.url),
                        tmp_path / f"{n}.log",
                    )
                    for n in ("a", "b")
                ]
                failed = [error for future in starting if (error := future.exception()) is not None]
                processes += [future.result() for future in starting if future.exception() is None]
            if failed:  # the one that did start is stopped below
                raise failed[0]
            print(f"both up after {time.monotonic() - started:.1f} s")

            def split() -> bool:
                held = [o for o in observer.holders().values() if o is not None]
                return len(held) == 8 and sorted(held.count(o) for o in set(held)) == [4, 4]

            print(f"split after {_wait('an even split', split, timeout_s=30):.1f} s")
            killed = processes[0]
            victim = next(o for o in observer.holders().values() if o and f"-{killed.process.pid}-" in o)
            survivor = next(o for o in observer.holders().values() if o not in (None, victim))
            killed.kill9()

            took = _wait("the takeover", lambda: set(observer.holders().values()) == {survivor}, timeout_s=15)
            # the lease bound: the victim renewed at most one step before dying, so its leases ran out
            # within lease_s of the kill; the survivor claims at its next step after that
            assert took <= 2 + 1 + 2, f"takeover took {took:.1f} s"  # + a loaded machine's slack
            print(f"takeover after SIGKILL: {took:.2f} s (lease 2 s, step 1 s)")

            survivor_process = next(p for p in processes if p is not killed)
            survivor_process.stop()  # SIGTERM: saved and released
            assert [(owner, saved_by) for _, owner, saved_by in _rows(engine)] == [(None, survivor)] * 8
        finally:
            for process in processes:
                if process.process.poll() is None:
                    process.kill9()
