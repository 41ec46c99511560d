"""A triage on the sandbox: bring a scenario's world up, investigate its alert with the same agent a
production deployment runs (only the URLs differ), settle the approval, write the report, tear down.

`medic triage` and `medic eval` both run through `triage`. Each triage brings up a sandbox of its own
(named after the scenario and this process), so it never stops one that `medic sandbox up` started.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, JsonValue

from agent.assemble import AgentConfig, Event, open_agent
from agent.incident import AlertmanagerAlert, Incident, incident_from_alert, incident_from_question
from agent.report import Report
from agent.report_files import write_report
from evals.sandbox.sandbox import SandboxConfig, SandboxInfo, down, up
from evals.scenario import Scenario, load_scenario
from policies.approvals import Approval
from policies.approver import Approver
from policies.guard_record import NoApprover
from tools.config import ToolsConfig
from tools.traces.config import TracesConfig

ApproveMode = Literal["prompt", "yes", "no"]
Ask = Callable[[dict[str, JsonValue]], bool | NoApprover]


class TriageResult(BaseModel):
    scenario: Scenario
    report: Report
    wall_s: float
    out_dir: Path


def scenario_incident(scenario: Scenario, run: str = "") -> Incident:
    """The scenario's alert as Alertmanager would send it, investigated as of the scenario's `end`.
    `run` tells replays of the same scenario apart (each is its own investigation)."""
    if scenario.alert is None:
        incident = incident_from_question(
            f"is anything wrong in {scenario.topology.namespace}?",
            as_of=scenario.end_utc,
            namespace=scenario.topology.namespace,
            known_services=list(scenario.topology.services),
            asked_by="cli",
        )
    else:
        alert = AlertmanagerAlert(
            labels=scenario.alert.labels,
            annotations=scenario.alert.annotations,
            startsAt=scenario.at(scenario.alert.starts_at),
        )
        incident = incident_from_alert(alert)
    return incident.model_copy(update={"as_of": scenario.end_utc, "id": f"{scenario.id}-{incident.id}{run}"})


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
    ref: str | Path | Scenario,
    *,
    base: AgentConfig,
    sandbox: SandboxConfig,
    approve: ApproveMode,
    approver: Approver,
    out_dir: Path,
    on_event: Callable[[Event], None] = lambda event: None,
    ask: Ask = lambda payload: NoApprover(why="nobody to ask"),
) -> TriageResult:
    """Sandbox up, investigate, report, guarded remediation, sandbox down (also on failure)."""
    scenario = ref if isinstance(ref, Scenario) else load_scenario(ref)
    started = time.monotonic()
    name = own_sandbox_name(scenario)
    info = up(scenario, sandbox, name=name)
    on_event(
        {"event": "sandbox", "prometheus_url": info.prometheus_url, "kubernetes_url": info.kubernetes_url}
    )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        config = sandbox_agent_config(base, info, out_dir)  # the audit log stays with the report
        incident = scenario_incident(scenario, run=datetime.now(UTC).strftime("-%Y%m%dT%H%M%S%f"))

        def decide(payload: dict[str, JsonValue]) -> Approval | NoApprover:
            return approver.decide(payload, mode=approve, ask=ask, now=datetime.now(UTC))

        with open_agent(config) as agent:
            investigation_started = time.monotonic()
            values = agent.run(incident, config.budget, on_event, decide)
            wall_s = time.monotonic() - investigation_started
            planner = agent.planner.name
        report = write_report(values, tools=config.tools, planner=planner, wall_s=wall_s, out_dir=out_dir)
        return TriageResult(
            scenario=scenario, report=report, wall_s=time.monotonic() - started, out_dir=out_dir
        )
    finally:
        down(name, sandbox)


def own_sandbox_name(scenario: Scenario) -> str:
    """This process's sandbox of `scenario`: one left behind by a killed triage that had the same pid is
    reaped by the next `up` under the name, and `medic sandbox down --all` finds them all."""
    return f"{scenario.id}.triage-{os.getpid()}"
