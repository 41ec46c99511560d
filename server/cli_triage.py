"""`medic triage` (on the sandbox) and `medic investigate` (against the configured backends)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import psycopg
import typer
from kubernetes.config.config_exception import ConfigException
from pydantic import JsonValue, ValidationError
from pydantic_settings import SettingsError
from rich.console import Console

from agent.report import Report
from policies.approvals import Approval
from server.progress import Progress, e
from server.settings import Settings, load_settings

Approve = Literal["prompt", "yes", "no"]
# Errors a user fixes (a bad file or setting, an unreachable backend): one line, never a traceback.
USER_ERRORS: tuple[type[Exception], ...] = (ValueError, OSError, ConfigException, psycopg.Error)


def sandbox_errors() -> tuple[type[Exception], ...]:
    from evals.sandbox.sandbox import SandboxError

    return (SandboxError, *USER_ERRORS)


PlannerOption = Annotated[
    Literal["rules", "openai"] | None, typer.Option(help="default: MEDIC_PLANNER, else rules")
]
ApproveOption = Annotated[Approve, typer.Option(help="how the approval the guard asks for is answered")]
JsonOption = Annotated[bool, typer.Option("--json", help="print the report as JSON")]


def ask_on_terminal(console: Console) -> Callable[[dict[str, JsonValue]], bool]:
    """Show what the guard wants approved and ask; with no terminal, refuse."""

    def ask(payload: dict[str, JsonValue]) -> bool:
        action = payload.get("action")
        kind, target = (action.get("kind"), action.get("target")) if isinstance(action, dict) else ("?", "?")
        console.print("[bold yellow]The guard asks for approval:[/]")
        console.print(f"  action   {e(kind)} {e(target)}  (id {e(payload.get('action_id'))})")
        changes = payload.get("changes")
        for change in changes if isinstance(changes, list) else []:
            console.print(f"  change   {e(change)}")
        console.print(f"  kubectl  {e(payload.get('kubectl'))}")
        if not sys.stdin.isatty():
            console.print("  [red]no terminal to approve on: refused[/] (use --approve yes|no)")
            return False
        return typer.confirm("Approve this action?", default=False)

    return ask


def triage_command(
    scenario: Annotated[
        str, typer.Option("--scenario", help="a shipped scenario id or a scenario YAML file")
    ],
    planner: PlannerOption = None,
    approve: ApproveOption = "prompt",
    as_json: JsonOption = False,
    out: Annotated[
        Path | None, typer.Option(help="report folder (default .medic/reports/<scenario>)")
    ] = None,
) -> None:
    """Sandbox up, investigate, report, guarded remediation, sandbox down."""
    from evals.scenario import ScenarioError, load_scenario
    from evals.triage import triage
    from server.cli import fail, sandbox_config

    settings = _settings(planner)
    console = Console(soft_wrap=True, stderr=as_json)
    try:
        loaded = load_scenario(scenario)
        result = triage(
            loaded,
            base=settings.agent_config(),
            sandbox=sandbox_config(settings),
            approve=approve,
            approver=settings.approver_seat(),
            out_dir=out or settings.state_dir / "reports" / loaded.id,
            on_event=Progress(console, quiet=as_json),
            ask=ask_on_terminal(console),
        )
    except ScenarioError as exc:
        raise fail(str(exc), code=2) from None
    except sandbox_errors() as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None
    show(result.report, result.out_dir, console, as_json)


def investigate_command(
    alert: Annotated[Path, typer.Option(help="an Alertmanager webhook (v4) JSON file")],
    planner: PlannerOption = None,
    approve: ApproveOption = "prompt",
    as_json: JsonOption = False,
    out: Annotated[
        Path | None, typer.Option(help="report folder (default .medic/reports/<incident>)")
    ] = None,
) -> None:
    """Investigate the first firing alert of a webhook payload against the configured backends."""
    from agent.assemble import open_agent
    from agent.incident import AlertmanagerAlert, incident_from_alert
    from agent.report_files import write_report
    from server.cli import fail

    settings = _settings(planner)
    try:
        payload = json.loads(alert.read_text())
        firing = [a for a in payload.get("alerts", []) if a.get("status", "firing") == "firing"]
        if not firing:
            raise fail(f"{alert}: no firing alert in the webhook payload", code=2)
        incident = incident_from_alert(AlertmanagerAlert.model_validate(firing[0]))
    except (OSError, ValueError, AttributeError) as exc:
        raise fail(f"{alert}: not an Alertmanager webhook payload: {exc}", code=2) from None
    console = Console(soft_wrap=True, stderr=as_json)
    seat, ask = settings.approver_seat(), ask_on_terminal(console)

    def decide(request: dict[str, JsonValue]) -> Approval:
        return seat.decide(request, mode=approve, ask=ask, now=datetime.now(UTC))

    try:
        config = settings.agent_config()
        out_dir = out or settings.state_dir / "reports" / incident.id
        started = time.monotonic()
        with open_agent(config) as agent:
            values = agent.run(incident, config.budget, Progress(console, quiet=as_json), decide)
            name = agent.planner.name
        report = write_report(
            values, tools=config.tools, planner=name, wall_s=time.monotonic() - started, out_dir=out_dir
        )
    except USER_ERRORS as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None
    show(report, out_dir, console, as_json)


def _settings(planner: str | None) -> Settings:
    from server.cli import fail

    try:
        settings = load_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(f"invalid setting MEDIC_{str(first['loc'][0]).upper()}: {first['msg']}", code=2) from None
    except SettingsError as exc:  # e.g. a list setting that is not JSON
        raise fail(
            f"invalid MEDIC_ setting: {exc} (lists are JSON, e.g. MEDIC_APPROVER_ROLES='[\"sre\"]')", code=2
        ) from None
    return settings.model_copy(update={"planner": planner}) if planner else settings


def show(report: Report, out_dir: Path, console: Console, as_json: bool) -> None:
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    console.print(f"\n[bold]{e(report.verdict)}[/]")
    if report.proposal and report.proposal.action:
        action = report.proposal.action
        guard = report.guard
        stage = f"{guard.decision}; {guard.execution or 'not executed'}" if guard else "not sent to the guard"
        console.print(f"action: {e(action.kind)} {e(action.target)} — {e(stage)}")
        for line in report.guard.diff if report.guard else []:
            console.print(f"  {e(line)}")
    elif report.proposal:
        console.print(f"action: none — {e(report.proposal.escalation or report.proposal.reason)}")
    console.print(
        f"report: {out_dir / 'report.md'}  ({report.usage.tool_calls} tool calls, {report.usage.wall_s:.2f}s)"
    )
