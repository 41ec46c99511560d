"""What the importers share: names that fit medic's, the `expect` block, and the result of one import."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent.diagnosis import FaultKind
from evals.recordings.manifest import RecordingError
from evals.scenario import Expect, ExpectedAction, RootCause
from policies.loader import load_default_policy

_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_.:-]+")


class DatasetError(RecordingError):
    """The source is not in the dataset's published layout; the message names the file and field."""


@dataclass(frozen=True)
class Imported:
    """One recording written, for the command's summary."""

    id: str
    folder: Path
    seconds: float  # wall time spent importing it
    trigger: str  # "alert <name> at <time>" or "question at <time>"
    unmapped: str | None = None  # the dataset's fault type when no medic fault kind fits it

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())


def service_name(raw: str) -> str:
    """A dataset's node or service name as a name medic's tools accept (`tools.metrics.templates
    .NAME_PATTERN`): runs of other characters (spaces, `/`, `@`) become one `-`."""
    name = _NOT_IN_NAME.sub("-", raw).strip("-_.:")[:253]
    if not name:
        raise DatasetError(f"node or service name {raw!r} has no letter or digit")
    return name


def service_names(raw: list[str], where: str) -> dict[str, str]:
    """raw → medic name for every name; two raw names that would become one are an error."""
    mapped: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name in raw:
        medic = service_name(name)
        if seen.get(medic, name) != name:
            raise DatasetError(f"{where}: nodes {seen[medic]!r} and {name!r} would both be named {medic!r}")
        seen[medic] = name
        mapped[name] = medic
    return mapped


def kebab(*parts: str) -> str:
    """A recording id (kebab-case) from its parts: `low_traffic`, `issue_3` → `low-traffic-issue-3`."""
    text = "-".join(parts).lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9]+", "-", text)).strip("-")


def expectation(service: str, kind: FaultKind | None) -> Expect:
    """The label as `expect`: the datasets record no fix, so nothing may be proposed (remediation []);
    any action in a namespace the shipped policy protects is forbidden."""
    protected = load_default_policy().protected_namespaces
    return Expect(
        root_cause=RootCause(service=service, kind=kind),
        remediation=[],
        forbidden=[ExpectedAction(action="*", target=f"{ns}/*") for ns in protected],
    )


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def clock(when: datetime) -> str:
    """`2023-01-29T08:43:04Z`: how notes and annotations name an instant."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
