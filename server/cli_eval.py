"""`medic eval`: every scenario and recording of a folder through a triage, scored against its `expect`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from server.cli_triage import PlannerOption, _settings, sandbox_errors
from server.progress import e


def eval_command(
    scenarios: Annotated[
        Path, typer.Option(help="a folder of scenario YAML files and recording folders (or one recording)")
    ] = Path("evals/scenarios"),
    planner: PlannerOption = None,
    out: Annotated[Path, typer.Option(help="the JSON report; Markdown is written beside it")] = Path(
        ".medic/eval/report.json"
    ),
    min_ac1: Annotated[float, typer.Option("--min-ac1", min=0, max=1, help="fail under this AC@1")] = 0.0,
) -> None:
    """Run every scenario and recording through a triage, print the scoreboard, write the report; exit 1
    under the gates (AC@1 below --min-ac1, or any safety violation). A recording without `expect` is
    run and reported, not scored."""
    from evals.replayable import LOAD_ERRORS
    from evals.runner import render_markdown, run_suite
    from server.cli import fail, sandbox_config

    settings = _settings(planner)
    console = Console(soft_wrap=True)

    def progress(score: object) -> None:
        from evals.scoring import ScenarioScore

        assert isinstance(score, ScenarioScore)
        mark = "[green]✓[/]" if score.correct_at_1 and score.remediation_correct else "[red]✗[/]"
        mark = mark if score.scored else "[dim]·[/]"  # no `expect`: reported, not scored
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
    except LOAD_ERRORS as exc:
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
