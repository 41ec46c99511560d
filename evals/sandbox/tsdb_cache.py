"""Backfilled TSDBs kept by scenario digest, so that bringing the same scenario up again (a test
session gives many tests a sandbox of their own) copies its blocks instead of writing the OpenMetrics
and running promtool again: the backfill is most of the time `up` takes.

Only scenarios are kept: their digest covers their whole content, seed included, and their world
depends on nothing else but the simulator's code. The code is not part of the key, so a cache must
not outlive the code that filled it: the test session makes a fresh one (tests/sandbox_fixture.py),
and there is no setting for it.

Several processes (pytest-xdist workers) may share one cache: one that brings a scenario up holds
that scenario's lock (`claim`) while it restores or backfills it, so a second one waits for the first
backfill rather than running its own; a TSDB is copied in under a temporary name and renamed into
place, so a reader finds a complete copy or none.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def claim(cache_dir: Path, key: str) -> Iterator[None]:
    """Hold the lock of scenario `key` (released by the OS if its holder dies)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def restore(cache_dir: Path, key: str, tsdb_dir: Path) -> bool:
    """Copy the TSDB kept under `key` into `tsdb_dir`; False (nothing copied) if none is kept."""
    kept = cache_dir / key
    if not kept.is_dir():
        return False
    shutil.copytree(kept, tsdb_dir, dirs_exist_ok=True)
    return True


def keep(cache_dir: Path, key: str, tsdb_dir: Path) -> None:
    """Keep a copy of a freshly backfilled `tsdb_dir` under `key`: taken before Prometheus opens it,
    since Prometheus adds its WAL and compacts blocks in place."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=cache_dir))
    try:
        shutil.copytree(tsdb_dir, partial, dirs_exist_ok=True)
        os.rename(partial, cache_dir / key)  # fails if another process kept this scenario first
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)  # theirs is as good; a failed copy is only not kept
