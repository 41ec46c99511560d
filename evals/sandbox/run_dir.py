"""The run directory of one sandbox, `<state_dir>/<name>/`, and the state.json that finds its processes.

The name is the scenario's or recording's id for `medic sandbox up`, and `triage.<pid>.<hash of the id>`
for a sandbox a triage brings up for itself (ids are kebab-case, so the two never meet; the id is hashed
so that no path a tool may quote names the case). Its files:

    state.json        pids (recorded the moment each process starts), then the SandboxInfo
    tsdb/             Prometheus data, backfilled by promtool; prometheus.yml beside it
    openmetrics/      2h window files while backfilling (removed afterwards)
    kube-state.json   the emulator's input; kube-ready.json its {"url", "pid"} once serving
    traces/           OTLP JSON lines: traces.jsonl (a scenario), the recording's spans/*.jsonl
    kubeconfig, sandbox.env, logs/
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from evals.sandbox.processes import ProcessRecord
from evals.sandbox.prometheus import prometheus_signature, promtool_signature
from evals.scenario import Scenario


class SandboxInfo(BaseModel):
    """Where a running sandbox can be reached: what the agent's settings point at."""

    prometheus_url: str
    kubernetes_url: str
    kubeconfig: Path
    traces_dir: Path
    env_file: Path


class RunState(BaseModel):
    """state.json: rewritten (atomically) whenever a process starts, so `down` can always find it."""

    scenario: str = Field(description="the id of the scenario or recording it serves")
    scenario_digest: str = Field("", description="of what it serves, to tell an edited file or folder apart")
    processes: list[ProcessRecord] = []
    info: SandboxInfo | None = None
    timings: dict[str, float] = {}


@dataclass(frozen=True)
class RunLayout:
    """The files of one scenario's run directory (see the module docstring)."""

    root: Path

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def tsdb(self) -> Path:
        return self.root / "tsdb"

    @property
    def kube_state(self) -> Path:
        return self.root / "kube-state.json"

    @property
    def kube_ready(self) -> Path:
        return self.root / "kube-ready.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def kube_signature(self) -> list[str]:
        return ["evals.sandbox.kube", str(self.kube_state)]

    def signatures(self) -> list[list[str]]:
        """Command-line arguments that only the processes of this run carry."""
        return [prometheus_signature(self.tsdb), self.kube_signature, promtool_signature(self.tsdb)]


def scenario_digest(scenario: Scenario) -> str:
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()[:16]


@dataclass
class Run:
    """The state.json of a start in progress."""

    paths: RunLayout
    state: RunState
    timings: dict[str, float] = field(default_factory=dict)

    def save(self) -> None:
        tmp = self.paths.state_file.with_suffix(".tmp")
        tmp.write_text(self.state.model_dump_json(indent=2))
        os.replace(tmp, self.paths.state_file)

    def started(self, record: ProcessRecord) -> None:
        self.state.processes = [p for p in self.state.processes if p.name != record.name] + [record]
        self.save()
