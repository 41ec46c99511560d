"""What the sandbox, triage and eval replay: a scenario (its world simulated) or a recording (its parts
recorded), behind one small interface so that they run both through one path.

A `Replayable` says what an incident is (id, namespace, services, as_of, the alert or the question,
`expect` if it is scored) and where its telemetry comes from (`contents()`, what the sandbox serves).
A recording has no seed or topology; a scenario has no recorded parts; nothing else differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from agent.incident import AlertmanagerAlert
from evals.recordings.manifest import RecordingError
from evals.recordings.parts import Recording, load_recording
from evals.sandbox.run_dir import scenario_digest
from evals.scenario import Expect, Scenario, ScenarioError, Tags, load_scenario

if TYPE_CHECKING:
    from evals.sandbox.contents import Contents

# What loading a scenario file or a recording folder raises; each message names the file and field.
LOAD_ERRORS: tuple[type[Exception], ...] = (ScenarioError, RecordingError)


@dataclass(frozen=True)
class Replayable:
    id: str
    title: str
    namespace: str
    services: tuple[str, ...]
    as_of: datetime  # UTC; nothing later is visible
    alert: AlertmanagerAlert | None  # as Alertmanager sends it, startsAt absolute
    question: str | None  # when there is no alert
    expect: Expect | None  # None: the case is reported, not scored
    source: Scenario | Recording
    tags: Tags = field(default_factory=lambda: Tags(classes=["recorded"]))

    @property
    def kind(self) -> Literal["scenario", "recording"]:
        return "scenario" if isinstance(self.source, Scenario) else "recording"

    def digest(self) -> str:
        """Changes when the case's content changes: a sandbox of an edited case is not this one's."""
        if isinstance(self.source, Scenario):
            return scenario_digest(self.source)
        return self.source.digest()

    def contents(self) -> Contents:
        """What the sandbox serves for this case."""
        if isinstance(self.source, Scenario):
            from evals.sandbox.contents import SimulatedContents

            return SimulatedContents(self.source)
        from evals.recordings.replay import RecordedContents

        return RecordedContents(self.source)


def from_scenario(scenario: Scenario) -> Replayable:
    """A scenario without an alert is a question about its namespace, as `medic triage` always asked."""
    namespace = scenario.topology.namespace
    alert = None
    if scenario.alert is not None:
        alert = AlertmanagerAlert(
            labels=scenario.alert.labels,
            annotations=scenario.alert.annotations,
            startsAt=scenario.at(scenario.alert.starts_at),
        )
    return Replayable(
        id=scenario.id,
        title=scenario.title,
        namespace=namespace,
        services=tuple(scenario.topology.services),
        as_of=scenario.end_utc,
        alert=alert,
        question=None if alert else f"is anything wrong in {namespace}?",
        expect=scenario.expect,
        source=scenario,
        tags=scenario.tags,
    )


def from_recording(recording: Recording) -> Replayable:
    manifest = recording.manifest
    alert = None
    if manifest.alert is not None:
        alert = AlertmanagerAlert(
            labels=manifest.alert.labels,
            annotations=manifest.alert.annotations,
            startsAt=manifest.alert.starts_at.astimezone(UTC),
        )
    return Replayable(
        id=manifest.id,
        title=manifest.title,
        namespace=manifest.namespace,
        services=tuple(manifest.services),
        as_of=manifest.as_of.astimezone(UTC),
        alert=alert,
        question=manifest.question,
        expect=manifest.expect,
        source=recording,
    )


def load_replayable(ref: str | Path) -> Replayable:
    """A recording folder, a scenario file, or a shipped scenario id; raises one of `LOAD_ERRORS`."""
    if Path(ref).is_dir():
        return from_recording(load_recording(ref))
    return from_scenario(load_scenario(ref))


def as_replayable(ref: Replayable | Scenario | str | Path) -> Replayable:
    if isinstance(ref, Replayable):
        return ref
    return from_scenario(ref) if isinstance(ref, Scenario) else load_replayable(ref)
