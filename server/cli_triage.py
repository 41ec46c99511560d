"""`medic triage` (on the sandbox) and `medic investigate` (against the configured backends)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

from server.progress import Progress, e
from tools.errors import ConfigurationError

if TYPE_CHECKING:  # imported by the commands that run, never for `--help` (the graph, charts, settings)
    from pydantic import JsonValue

    from agent.report import Report
    from policies.approvals import Approval
    from policies.guard_record import NoApprover
    from server.settings import Settings

Approve = Literal["prompt", "yes", "no"]
# Exit status of `triage` and `investigate`, as their --help and the README's Commands section say.
# 2 is also what typer answers a bad option with; 1 any other failure (`fail`'s default).
EXIT_BAD_INPUT, EXIT_DEGRADED = 2, 3


def user_errors() -> tuple[type[Exception], ...]:
    """Errors a user fixes (a bad file or setting, an unreachable backend): one line, never a traceback.
    A function, so that the database and Kubernetes clients are imported only by a command that runs."""
    import psycopg
    from kubernetes.config.config_exception import ConfigException

    return (ValueError, OSError, ConfigException, psycopg.Error)


def sandbox_errors() -> tuple[type[Exception], ...]:
    from evals.sandbox.sandbox import SandboxError

    return (SandboxError, *user_errors())


PlannerOption = Annotated[
    Literal["rules", "openai"] | None, typer.Option(help="default: MEDIC_PLANNER, else rules")
]
ApproveOption = Annotated[Approve, typer.Option(help="how the approval the guard asks for is answered")]
# Against real backends an approval must come from a verified identity (an API token, a signed Slack
# request); a terminal is not one, so `investigate` only refuses or leaves the action unapproved.
InvestigateApprove = Literal["none", "no", "prompt", "yes"]
NOT_HERE = (
    "--approve {mode} is for the sandbox only (medic triage): against real backends an approval must "
    "come from a verified identity. Run `medic serve` and approve over the API "
    "(POST /v1/incidents/<id>/actions/<action_id>/approval) or in Slack; see the README's Service section"
)
JsonOption = Annotated[bool, typer.Option("--json", help="print the report as JSON")]


def ask_on_terminal(console: Console) -> Callable[[dict[str, JsonValue]], bool | NoApprover]:
    """Show what the guard wants approved and ask; with no terminal there is no approver (not a refusal)."""

    def ask(payload: dict[str, JsonValue]) -> bool | NoApprover:
        from policies.guard_record import NoApprover

        action = payload.get("action")
        kind, target = (action.get("kind"), action.get("target")) if isinstance(action, dict) else ("?", "?")
        console.print("[bold yellow]The guard asks for approval:[/]")
        console.print(f"  action   {e(kind)} {e(target)}  (id {e(payload.get('action_id'))})")
        changes = payload.get("changes")
        for change in changes if isinstance(changes, list) else []:
            console.print(f"  change   {e(change)}")
        console.print(f"  kubectl  {e(payload.get('kubectl'))}")
        if not sys.stdin.isatty():
            console.print("  [yellow]no approver available: no terminal to ask on[/] (use --approve yes|no)")
            return NoApprover(why="no terminal to ask on (use --approve yes|no)", channel="cli")
        return typer.confirm("Approve this action?", default=False)

    return ask


def triage_command(
    scenario: Annotated[
        str,
        typer.Option("--scenario", help="a shipped scenario id, a scenario YAML file, or a recording folder"),
    ],
    planner: PlannerOption = None,
    approve: ApproveOption = "prompt",
    as_json: JsonOption = False,
    out: Annotated[
        Path | None, typer.Option(help="report folder (default .medic/reports/<scenario>)")
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(
            "--record", help="also write a recording of what the investigation read into this new folder"
        ),
    ] = None,
    memory: Annotated[
        Path | None,
        typer.Option(
            help="a local memory of past incidents: similar ones are recalled and this one remembered "
            "(feedback: medic incident feedback ID --memory DIR)"
        ),
    ] = None,
) -> None:
    """Sandbox up (a scenario's world or a recording), investigate, report, guarded remediation,
    sandbox down.

    Exit status: 0 investigated; 1 failed (a backend or file); 2 bad input (scenario, alert, setting);
    3 degraded: some evidence could not be read (the report says which and why), confidence capped.
    """
    from evals.recordings.record import check_destination, describe
    from evals.replayable import LOAD_ERRORS, load_replayable
    from evals.triage import triage
    from server.cli import fail, sandbox_config

    settings = _settings(planner)
    console = Console(soft_wrap=True, stderr=as_json)
    try:
        loaded = load_replayable(scenario)
        if record is not None:
            check_destination(record)  # before the sandbox comes up, not after the investigation
        result = triage(
            loaded,
            base=settings.agent_config(),
            sandbox=sandbox_config(settings),
            approve=approve,
            approver=settings.approver_seat(),
            out_dir=out or settings.state_dir / "reports" / loaded.id,
            on_event=Progress(console, quiet=as_json),
            ask=ask_on_terminal(console),
            record=record,
            memory=memory,
        )
    except LOAD_ERRORS as exc:  # also a recording's part, read as it is replayed
        raise fail(str(exc), code=2) from None
    except ConfigurationError as exc:  # its message names the setting and the value
        raise fail(str(exc), code=EXIT_BAD_INPUT) from None
    except sandbox_errors() as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None
    show(result.report, result.out_dir, console, as_json)
    # The incident's id is opaque (the planner must not learn the case from it): say which case it was.
    console.print(f"{loaded.kind} {e(loaded.id)} was investigated as incident {e(result.incident_id)}")
    if result.recording is not None:
        console.print(e(describe(result.recording)))
    raise typer.Exit(exit_status(result.report))


def investigate_command(
    alert: Annotated[Path, typer.Option(help="an Alertmanager webhook (v4) JSON file")],
    planner: PlannerOption = None,
    approve: Annotated[
        InvestigateApprove,
        typer.Option(help="none: leave the action unapproved (no approver here); no: refuse it"),
    ] = "none",
    as_json: JsonOption = False,
    out: Annotated[
        Path | None, typer.Option(help="report folder (default .medic/reports/<incident>)")
    ] = None,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="investigate again from scratch; without it, an alert investigated before "
            "(a re-delivery) shows that investigation",
        ),
    ] = False,
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            help="write a recording of everything the investigation read (metrics, spans, logs, "
            "Kubernetes objects; secrets redacted) into this new folder; implies --fresh",
        ),
    ] = None,
) -> None:
    """Investigate the first firing alert of a webhook payload against the configured backends.

    Exit status: 0 investigated; 1 failed (a backend or file); 2 bad input (scenario, alert, setting);
    3 degraded: some evidence could not be read (the report says which and why), confidence capped.
    """
    from agent.incident import AlertPayloadError, incident_from_alert, read_webhook_alert
    from server.cli import fail

    if approve in ("prompt", "yes"):
        raise fail(NOT_HERE.format(mode=approve), code=EXIT_BAD_INPUT)
    settings = _settings(planner)
    from evals.recordings.manifest import RecordingError
    from evals.recordings.record import check_destination, describe, open_recorder

    try:
        incident = incident_from_alert(read_webhook_alert(alert))
        if record is not None:
            check_destination(record)  # before the investigation, not after it
    except (AlertPayloadError, RecordingError) as exc:
        raise fail(str(exc), code=2) from None
    if fresh or record is not None:  # a recording needs an investigation that reads, not a shown one
        incident = incident.restarted(datetime.now(UTC))
    console = Console(soft_wrap=True, stderr=as_json)
    seat = settings.approver_seat()

    def decide(request: dict[str, JsonValue]) -> Approval | NoApprover:
        from policies.guard_record import NoApprover

        if approve == "no":
            return seat.answer(request, approve=False, now=datetime.now(UTC))
        return NoApprover(
            why="medic investigate approves nothing: approve through medic serve's API or Slack"
        )

    from agent.assemble import open_agent  # the graph and the clients: only once the alert is good
    from agent.report_files import write_report
    from evals.recordings.record_manifest import investigation_manifest

    recorded = ""
    try:
        config = settings.agent_config()
        out_dir = out or settings.state_dir / "reports" / incident.id
        started = time.monotonic()
        with open_recorder(record, config.tools) as recorder:
            with open_agent(config, wrap=recorder.wrap if recorder else None) as agent:
                values = agent.run(incident, config.budget, Progress(console, quiet=as_json), decide)
                name = agent.planner.name
            wall_s = time.monotonic() - started
            if recorder is not None and record is not None:
                manifest = investigation_manifest(incident, recorder, datetime.now(UTC))
                recorded = describe(recorder.write(record, manifest))
        report = write_report(values, tools=config.tools, planner=name, wall_s=wall_s, out_dir=out_dir)
    except ConfigurationError as exc:  # its message names the setting and the value
        raise fail(str(exc), code=EXIT_BAD_INPUT) from None
    except user_errors() as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None
    show(report, out_dir, console, as_json)
    if recorded:
        console.print(e(recorded))
    raise typer.Exit(exit_status(report))


def _settings(planner: str | None) -> Settings:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from server.cli import fail
    from server.settings import load_settings

    try:
        settings = load_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        # a check across settings (e.g. two that go together) has no one field to name
        where = f"setting MEDIC_{str(first['loc'][0]).upper()}" if first["loc"] else "settings"
        raise fail(f"invalid {where}: {first['msg']}", code=2) from None
    except SettingsError as exc:  # e.g. a list setting that is not JSON
        raise fail(
            f"invalid MEDIC_ setting: {exc} (lists are JSON, e.g. MEDIC_APPROVER_ROLES='[\"sre\"]')", code=2
        ) from None
    return settings.model_copy(update={"planner": planner}) if planner else settings


def exit_status(report: Report) -> int:
    """0, or EXIT_DEGRADED when the diagnosis was made with evidence missing."""
    return EXIT_DEGRADED if report.diagnosis is not None and report.diagnosis.degraded else 0


def show(report: Report, out_dir: Path, console: Console, as_json: bool) -> None:
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    console.print(f"\n[bold]{e(report.verdict)}[/]")
    if report.symptom:
        console.print(f"symptom: {e(report.symptom)}")
    if report.diagnosis is not None and report.diagnosis.degraded:
        console.print("[bold yellow]degraded:[/] made without some evidence, so confidence is capped")
        for missing in report.diagnosis.missing:
            console.print(f"  missing {e(missing.line())}")
    if report.proposal and report.proposal.action:
        action = report.proposal.action
        guard = report.guard
        stage = f"{guard.decision}; {guard.execution or 'not executed'}" if guard else "not sent to the guard"
        console.print(f"action: {e(action.kind)} {e(action.target)} — {e(stage)}")
        for line in report.guard.diff if report.guard else []:
            console.print(f"  {e(line)}")
        for said in (guard.approval, guard.verification) if guard else ():
            if said and said != "not required":
                console.print(f"  {e(said)}")
    elif report.proposal:
        console.print(f"action: none — {e(report.proposal.escalation or report.proposal.reason)}")
    console.print(
        f"report: {out_dir / 'report.md'}  ({report.usage.tool_calls} tool calls, {report.usage.wall_s:.2f}s)"
    )
