"""Where the loop's states are checkpointed: `WatchStateStore` (load/save of one shard's states) and
the file store. The PostgreSQL store of `medic serve` implements the same two methods.

A state is JSON text per key (a series' detector, a service's persistence window, a forecast's
history), so a store needs no knowledge of what is inside. The keys and the text are the loop's;
names of this protocol and its methods are stable (the serve integration imports them).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

_SHARD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


@runtime_checkable
class WatchStateStore(Protocol):
    """Checkpoints of one shard: `save` replaces the shard's states, `load` returns the last saved."""

    def load(self, shard: str) -> dict[str, str]: ...

    def save(self, shard: str, states: Mapping[str, str]) -> None: ...


class FileStateStore:
    """One JSON file per shard under `directory`, replaced atomically (write, fsync, rename), so a
    crash mid-save leaves the previous checkpoint whole."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, shard: str) -> Path:
        if not _SHARD.match(shard):
            raise ValueError(f"{shard!r} is not a shard name (letters, digits, . _ : -)")
        return self.directory / f"{shard}.json"

    def load(self, shard: str) -> dict[str, str]:
        path = self._path(shard)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise ValueError(
                f"{path}: not a watch checkpoint ({exc}); move it away to start afresh"
            ) from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"{path}: not a watch checkpoint; move it away to start afresh")
        return {str(k): v for k, v in data.items()}

    def save(self, shard: str, states: Mapping[str, str]) -> None:
        path = self._path(shard)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{shard}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(dict(states), out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class MemoryStateStore:
    """A store in a dict: for a replay (nothing outlives it) and for tests."""

    def __init__(self) -> None:
        self.shards: dict[str, dict[str, str]] = {}

    def load(self, shard: str) -> dict[str, str]:
        return dict(self.shards.get(shard, {}))

    def save(self, shard: str, states: Mapping[str, str]) -> None:
        self.shards[shard] = dict(states)


class Afresh:
    """A shard's store that forgets the unreadable checkpoint: loads nothing, saves over it."""

    def __init__(self, store: WatchStateStore) -> None:
        self.store = store

    def load(self, shard: str) -> dict[str, str]:
        return {}

    def save(self, shard: str, states: Mapping[str, str]) -> None:
        self.store.save(shard, states)
