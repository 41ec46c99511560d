"""What a sandbox serves: a scenario's simulated world, or a recording's parts (evals/recordings/replay.py).

`up` brings either up the same way (evals/sandbox/sandbox.py): the emulator is started on the
objects and logs, the metrics are backfilled while the traces are written, then Prometheus starts
and is ready once the probe query returns data at the probe's instant.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from evals.sandbox.prometheus import BackfillStats, backfill_world, probe_query
from evals.scenario import Scenario

if TYPE_CHECKING:
    from evals.world.model import World


class Contents(Protocol):
    """One sandbox's telemetry and cluster state, each written where the real tools read it."""

    @property
    def what(self) -> str:
        """'scenario' or 'recording', for the env file and messages."""
        ...

    @property
    def namespace(self) -> str: ...

    @property
    def as_of(self) -> datetime: ...

    def load(self) -> dict[str, float]:
        """The work before anything starts (simulating, reading the objects); returns its timings."""
        ...

    def kube_state(self) -> dict[str, object]:
        """The emulator's STATE.json (evals/sandbox/kube/state.py)."""
        ...

    def backfill(
        self, work_dir: Path, tsdb_dir: Path, promtool: str, meanwhile: Callable[[], None]
    ) -> BackfillStats:
        """Backfill the metrics into `tsdb_dir` (via files in `work_dir`), running `meanwhile` while
        the last promtool runs go."""
        ...

    def write_traces(self, traces_dir: Path) -> None: ...

    def probe(self) -> tuple[str, datetime]:
        """A cheap query that returns data at the instant once every block is loaded."""
        ...


class SimulatedContents:
    """A scenario: its world is simulated by `load`."""

    what = "scenario"

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._world: World | None = None

    @property
    def namespace(self) -> str:
        return self.scenario.topology.namespace

    @property
    def as_of(self) -> datetime:
        return self.scenario.end_utc

    @property
    def world(self) -> World:
        assert self._world is not None, "load() first"
        return self._world

    def load(self) -> dict[str, float]:
        from evals.world.simulate import simulate  # the simulator is heavy: imported only to bring one up

        clock = time.perf_counter()
        self._world = simulate(self.scenario)
        return {"simulate_s": time.perf_counter() - clock}

    def kube_state(self) -> dict[str, object]:
        logs = [
            {
                "namespace": log.namespace,
                "pod": log.pod,
                "container": log.container,
                "previous": log.previous,
                "lines": log.lines,
            }
            for log in self.world.logs
        ]
        return {"objects": self.world.objects, "logs": logs}

    def backfill(
        self, work_dir: Path, tsdb_dir: Path, promtool: str, meanwhile: Callable[[], None]
    ) -> BackfillStats:
        return backfill_world(self.world, work_dir, tsdb_dir, promtool, meanwhile)

    def write_traces(self, traces_dir: Path) -> None:
        from evals.world.otlp import write_otlp_json  # the OpenTelemetry SDK: imported only when needed

        traces_dir.mkdir(parents=True, exist_ok=True)
        write_otlp_json(self.world.spans, traces_dir / "traces.jsonl", namespace=self.namespace)

    def probe(self) -> tuple[str, datetime]:
        return probe_query(self.world), self.as_of
