"""`medic eval` (the scenario suite) and `medic audit` (show and verify the audit log)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from policies.audit import AuditLog
from policies.audit_store import open_audit_store
from server.cli_triage import PlannerOption, _settings, sandbox_errors
from server.progress import e

audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log of every action.")


def eval_command(
    scenarios: Annotated[Path, typer.Option(help="a folder of scenario YAML files")] = Path(
        "evals/scenarios"
    ),
    planner: PlannerOption = None,
    out: Annotated[Path, typer.Option(help="the JSON report; Markdown is written beside it")] = Path(
        ".medic/eval/report.json"
    ),
    min_ac1: Annotated[float, typer.Option("--min-ac1", min=0, max=1, help="fail under this AC@1")] = 0.0,
) -> None:
    """Run every scenario through a triage, print the scoreboard, write the report; exit 1 under the gates
    (AC@1 below --min-ac1, or any safety violation)."""
    from evals.runner import render_markdown, run_suite
    from evals.scenario import ScenarioError
    from server.cli import fail, sandbox_config

    settings = _settings(planner)
    console = Console(soft_wrap=True)

    def progress(score: object) -> None:
        from evals.scoring import ScenarioScore

        assert isinstance(score, ScenarioScore)
        mark = "[green]✓[/]" if score.correct_at_1 and score.remediation_correct else "[red]✗[/]"
        top = score.predicted[0] if score.predicted else None
        said = score.error or (f"{top.kind} on {top.service}" if top and top.service else "no fault")
        console.print(f"{mark} {e(score.id)}: {e(said)}  ({score.tool_calls} calls, {score.wall_s:.2f}s)")

    try:
        report = run_suite(
            scenarios,
            base=settings.agent_config(),
            sandbox=sandbox_config(settings),
            approver=settings.approver_seat(),
            out_dir=out.parent / "runs",
            on_scenario=progress,
        )
    except ScenarioError as exc:
        raise fail(str(exc), code=2) from None
    except sandbox_errors() as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.model_dump_json(indent=2))
    out.with_suffix(".md").write_text(render_markdown(report))
    console.print(render_markdown(report), markup=False, highlight=False)
    s = report.summary
    if s.safety_violations or s.ac_at_1 < min_ac1:
        raise fail(
            f"gates failed: AC@1 {s.ac_at_1:.2f} (min {min_ac1:.2f}), safety violations {s.safety_violations}"
        )


@audit_app.command("show")
def audit_show(
    action_id: Annotated[str | None, typer.Option(help="only the records of one action")] = None,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List audit records in order."""
    with _audit_log() as log:
        records = log.show(action_id=action_id, limit=limit)
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in records], indent=2))
        return
    console = Console(soft_wrap=True)
    for r in records:
        console.print(
            f"{r.seq:>5} {r.at.isoformat()} {r.kind:<12} {r.action_id or '-'} {r.actor} via {r.channel} "
            f"{json.dumps(r.payload, separators=(',', ':'))[:160]}",
            markup=False,
            highlight=False,
        )


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None, typer.Option(help="SEQ:HASH of a head kept elsewhere (detects a cut tail)")
    ] = None,
) -> None:
    """Walk the hash chain; exit 1 on a gap, an edited record or a broken chain."""
    from policies.audit import Anchor
    from server.cli import fail

    kept = None
    if anchor:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or not digest:
            raise fail("--anchor takes SEQ:HASH, as printed by a previous verify", code=2)
        kept = Anchor(seq=int(seq), hash=digest)
    with _audit_log() as log:
        report = log.verify(kept)
    head = f"{report.head.seq}:{report.head.hash}" if report.head else "empty"
    if not report.ok:
        for problem in report.problems:
            Console(stderr=True).print(f"[red]{e(problem)}[/]")
        raise fail(f"audit log does not verify ({len(report.problems)} problem(s)); head {head}")
    Console().print(f"audit log verifies: {report.count} records, head {head}")


@contextlib.contextmanager
def _audit_log() -> Iterator[AuditLog]:
    from server.cli import fail

    url = _settings(None).audit_url
    if (
        not url.startswith(("postgresql://", "postgres://"))
        and not Path(url.removeprefix("sqlite:///")).is_file()
    ):
        raise fail(f"no audit log at {url} (set MEDIC_AUDIT_URL)", code=2)
    store = open_audit_store(url)
    try:
        yield AuditLog(store, lambda: datetime.now(UTC))
    finally:
        store.close()
