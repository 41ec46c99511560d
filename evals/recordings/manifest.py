"""The recording format: a folder with `manifest.yaml` and optional telemetry beside it.

```
manifest.yaml     # id, as_of, namespace, services (+ calls if known), alert or question, expect, provenance
metrics/*.om      # OpenMetrics text, any metric names (the metric profile is detected at replay)
spans/*.jsonl     # OTLP JSON lines (the OpenTelemetry Collector's file exporter format)
logs/<pod>.log    # pod logs, one file per pod (and <pod>.previous.log)
kube/*.json       # Deployments, ReplicaSets, Pods, Events, Nodes as the API returns them (a List or a list)
```

Only the manifest is required. Nothing in a recording may be later than `as_of` except what the
replay hides anyway; `expect` is for scoring and never reaches a planner.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from evals.scenario import Expect, read_yaml_model

MANIFEST = "manifest.yaml"
PARTS = ("metrics", "spans", "logs", "kube")


class RecordingError(ValueError):
    """A recording that cannot be replayed; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordedService(_Strict):
    calls: list[str] = Field(default_factory=list, description="services it calls, when known")
    kind: Literal["service", "database", "cache", "queue", "external"] = "service"


class RecordedAlert(_Strict):
    """The alert as Alertmanager sent it (its startsAt is usually as_of)."""

    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: AwareDatetime

    @field_validator("labels")
    @classmethod
    def _has_alertname(cls, labels: dict[str, str]) -> dict[str, str]:
        if "alertname" not in labels:
            raise ValueError("alert labels need an 'alertname'")
        return labels


class Provenance(_Strict):
    source: str = Field(description="'medic investigate --record', or the dataset and importer that built it")
    recorded_at: AwareDatetime | None = None
    notes: str = ""


class Manifest(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", description="unique, kebab-case")
    title: str = Field(min_length=1, max_length=500)
    as_of: AwareDatetime = Field(description="the instant investigated: nothing later is visible")
    namespace: str = Field(min_length=1, max_length=253)
    nodes: list[str] = Field(default_factory=list)
    services: dict[str, RecordedService] = Field(min_length=1)
    alert: RecordedAlert | None = None
    question: str | None = Field(None, max_length=2000)
    expect: Expect | None = None
    provenance: Provenance

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        if (self.alert is None) == (self.question is None):
            raise ValueError("a recording has exactly one of `alert` or `question`")
        for name, service in self.services.items():
            for callee in service.calls:
                if callee not in self.services:
                    raise ValueError(f"services.{name}.calls: unknown service {callee!r}")
        if self.alert is not None and self.alert.starts_at > self.as_of:
            raise ValueError("alert.starts_at: after as_of")
        cause = self.expect.root_cause.service if self.expect else None
        if cause is not None and not cause.startswith("node/") and cause not in self.services:
            raise ValueError(f"expect.root_cause.service: unknown service {cause!r}")
        return self


def is_recording(ref: str | Path) -> bool:
    return Path(ref).is_dir() and (Path(ref) / MANIFEST).is_file()


def load_manifest(folder: str | Path) -> Manifest:
    path = Path(folder) / MANIFEST
    if not Path(folder).is_dir():
        raise RecordingError(f"{folder}: not a folder")
    if not path.is_file():
        raise RecordingError(f"{folder}: no {MANIFEST} (a recording needs one; see the README's Recordings)")
    return read_yaml_model(path, Manifest, RecordingError, "manifest")


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MANIFEST
    # Only absent top-level fields are left out: `expect.root_cause.service: null` (nothing is wrong)
    # is a value, and dropping it would make the manifest invalid.
    data = {key: value for key, value in manifest.model_dump(mode="json").items() if value is not None}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


_POD_LOG = re.compile(r"^(?P<pod>[a-z0-9][a-z0-9.-]*?)(?P<previous>\.previous)?\.log$")


def log_files(folder: Path) -> dict[tuple[str, bool], Path]:
    """(pod, previous) → its log file."""
    found = {}
    for path in sorted((folder / "logs").glob("*.log")):
        match = _POD_LOG.match(path.name)
        if match is None:
            raise RecordingError(f"{path}: a pod log is named <pod>.log or <pod>.previous.log")
        found[(match["pod"], match["previous"] is not None)] = path
    return found
