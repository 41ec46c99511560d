"""A triage on the sandbox: bring a scenario's world or a recording up, investigate its alert (or
question) with the same agent a production deployment runs (only the URLs differ), settle the
approval, write the report, tear down.

`medic triage` and `medic eval` both run through `triage`, with scenarios and recordings alike (see
`evals.replayable`). Each triage brings up a sandbox of its own (named after the case and this
process), so it never stops one that `medic sandbox up` started.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import JsonValue

from agent.assemble import AgentConfig, Event, open_agent
from agent.incident import Incident, incident_from_alert, incident_from_question
from agent.planners.memory_signature import past_incident
from agent.report import Report
from agent.report_files import write_report
from evals.recordings.record import RecordingStats, open_recorder
from evals.recordings.record_manifest import case_manifest
from evals.replayable import Replayable, as_replayable, from_scenario
from evals.sandbox.sandbox import SandboxConfig, SandboxInfo, down, up
from evals.scenario import Scenario
from policies.approvals import Approval
from policies.approver import Approver
from policies.guard_record import NoApprover
from tools.config import ToolsConfig
from tools.memory.local import FolderMemory
from tools.traces.config import TracesConfig

ApproveMode = Literal["prompt", "yes", "no"]
Ask = Callable[[dict[str, JsonValue]], bool | NoApprover]


@dataclass(frozen=True)
class TriageResult:
    case: Replayable
    report: Report
    wall_s: float
    out_dir: Path
    recording: RecordingStats | None = None  # when `triage(record=...)` wrote one

    @property
    def incident_id(self) -> str:
        """The opaque id `case` was investigated under: the case-to-incident mapping is the eval's."""
        return self.report.incident.id


def opaque_incident_id() -> str:
    """A new eval incident's id, which says nothing about the case: the id reaches the planner (the
    OpenAI planner's prompt shows it), so a scenario's id, title or expectation must not be in it. Each
    call gives another id, so each replay of a case is its own investigation (a LangGraph thread)."""
    return f"inc-{secrets.token_hex(8)}"


def incident_of(case: Replayable, incident_id: str | None = None) -> Incident:
    """The case's alert as Alertmanager would send it (or its question), investigated as of the case's
    as_of, under `incident_id` (default: a new `opaque_incident_id`). Which case an incident replays is
    the eval's to know (`TriageResult`, the run folder), never the planner's."""
    if case.alert is None:
        incident = incident_from_question(
            case.question or f"is anything wrong in {case.namespace}?",
            as_of=case.as_of,
            namespace=case.namespace,
            known_services=list(case.services),
            asked_by="cli",
        )
    else:
        incident = incident_from_alert(case.alert)
        if incident.namespace is None:  # an alert without the label: the recording says where it is
            incident = incident.model_copy(update={"namespace": case.namespace})
    return incident.model_copy(update={"as_of": case.as_of, "id": incident_id or opaque_incident_id()})


def scenario_incident(scenario: Scenario, incident_id: str | None = None) -> Incident:
    """`incident_of` a scenario."""
    return incident_of(from_scenario(scenario), incident_id)


def sandbox_agent_config(base: AgentConfig, info: SandboxInfo, run_dir: Path) -> AgentConfig:
    """`base` pointed at the sandbox's servers, with its own audit log and checkpoints."""
    tools = ToolsConfig.model_validate(
        {
            **base.tools.model_dump(),
            "prometheus_url": info.prometheus_url,
            "kubeconfig": info.kubeconfig,
            "kube_in_cluster": False,
            "traces": TracesConfig(backend="otlp-file", dir=info.traces_dir).model_dump(),
        }
    )
    return base.model_copy(
        update={
            "tools": tools,
            "audit_url": str(run_dir / "audit.db"),
            "state_dir": run_dir,
            "database_url": None,
            "recovery_within_s": 0.0,  # replayed telemetry ends at `end`: no symptom can recede after it
        }
    )


def triage(
    ref: str | Path | Scenario | Replayable,
    *,
    base: AgentConfig,
    sandbox: SandboxConfig,
    approve: ApproveMode,
    approver: Approver,
    out_dir: Path,
    on_event: Callable[[Event], None] = lambda event: None,
    ask: Ask = lambda payload: NoApprover(why="nobody to ask"),
    record: Path | None = None,
    memory: Path | None = None,
) -> TriageResult:
    """Sandbox up, investigate, report, guarded remediation, sandbox down (also on failure). With
    `record`, what the investigation read is written there as a recording before the sandbox goes.
    With `memory`, a local memory folder: `similar_incidents` reads past incidents from it and the
    finished incident is remembered there (feedback: `medic incident feedback ID --memory DIR`)."""
    case = as_replayable(ref)
    started = time.monotonic()
    name = own_sandbox_name(case)
    info = up(case, sandbox, name=name)
    on_event(
        {"event": "sandbox", "prometheus_url": info.prometheus_url, "kubernetes_url": info.kubernetes_url}
    )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        config = sandbox_agent_config(base, info, out_dir)  # the audit log stays with the report
        incident = incident_of(case)

        def decide(payload: dict[str, JsonValue]) -> Approval | NoApprover:
            return approver.decide(payload, mode=approve, ask=ask, now=datetime.now(UTC))

        recording = None
        with open_recorder(record, config.tools) as recorder:
            past = FolderMemory(memory) if memory is not None else None
            with open_agent(config, wrap=recorder.wrap if recorder else None, memory=past) as agent:
                investigation_started = time.monotonic()
                values = agent.run(incident, config.budget, on_event, decide)
                wall_s = time.monotonic() - investigation_started
                planner = agent.planner.name
            if recorder is not None and record is not None:
                recording = recorder.write(record, case_manifest(case, recorder, datetime.now(UTC)))
        report = write_report(values, tools=config.tools, planner=planner, wall_s=wall_s, out_dir=out_dir)
        if past is not None and report.signature is not None:
            past.remember(past_incident(report.incident, report.verdict, report.diagnosis, report.signature))
        return TriageResult(
            case=case, report=report, wall_s=time.monotonic() - started, out_dir=out_dir, recording=recording
        )
    finally:
        down(name, sandbox)


def own_sandbox_name(case: Replayable | Scenario) -> str:
    """This process's sandbox of `case`: one left behind by a killed triage that had the same pid is
    reaped by the next `up` under the name, and `medic sandbox down --all` finds them all. The case's id
    is hashed, not spelt: the name is in the paths a tool's error can quote (the traces folder), and
    those reach the planner. (The run folder's state.json still says which case it serves.)"""
    digest = hashlib.sha256(case.id.encode()).hexdigest()[:12]
    return f"triage.{os.getpid()}.{digest}"  # dots: never a case id (those are kebab-case)
