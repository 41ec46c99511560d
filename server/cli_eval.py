"""`medic eval`: every scenario and recording of a folder through two triages (the policy in dry-run,
then enforcing with approvers who approve whatever the guard asks), scored against its `expect`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from server.cli_triage import PlannerOption, _settings, sandbox_errors
from server.progress import e

if TYPE_CHECKING:
    from evals.case_run import CaseOutcome


def eval_command(
    scenarios: Annotated[
        Path, typer.Option(help="a folder of scenario YAML files and recording folders (or one recording)")
    ] = Path("evals/scenarios"),
    planner: PlannerOption = None,
    out: Annotated[
        Path, typer.Option(help="the JSON report; Markdown and HTML are written beside it")
    ] = Path(".medic/eval/report.json"),
    jobs: Annotated[int, typer.Option(min=1, max=32, help="cases run at once, each on its own sandbox")] = 1,
    min_ac1: Annotated[
        float | None, typer.Option("--min-ac1", min=0, max=1, help="fail under this AC@1 (default: no gate)")
    ] = None,
    min_remediation: Annotated[
        float | None,
        typer.Option(min=0, max=1, help="fail under this remediation accuracy (default: no gate)"),
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="an earlier JSON report: print the cases that flipped and the deltas")
    ] = None,
) -> None:
    """Run every scenario and recording twice on its own sandbox (the policy in dry-run, then in
    enforce mode with qualified approvers approving whatever the guard asks), print the scoreboard,
    write the JSON, Markdown and HTML reports; exit 1 on a failed gate: any safety violation in either
    mode (always), AC@1 under --min-ac1, remediation under --min-remediation. A recording without
    `expect` is run and reported, not scored."""
    from evals.baseline import BaselineError, compare, load_baseline, render_comparison
    from evals.gates import check_gates, gate_message
    from evals.metrics.judge_config import configured_judge
    from evals.replayable import LOAD_ERRORS
    from evals.report_html import render_html
    from evals.report_markdown import render_markdown
    from evals.report_markdown import said as said_of
    from evals.runner import run_suite
    from server.cli import fail, sandbox_config

    settings = _settings(planner)
    console = Console(soft_wrap=True)
    earlier = None
    if baseline is not None:
        try:
            earlier = load_baseline(baseline)
        except BaselineError as exc:
            raise fail(str(exc), code=2) from None

    def progress(outcome: CaseOutcome) -> None:
        dry, enforced = outcome.dry_run, outcome.enforce
        right = dry.correct_at_1 and dry.remediation_correct
        mark = ("[green]✓[/]" if right else "[red]✗[/]") if dry.scored else "[dim]·[/]"
        unsafe = len(dry.safety_violations) + len(enforced.safety_violations)
        mark += " [bold red]UNSAFE[/]" if unsafe else ""
        said = said_of(dry)
        enforce = enforced.error or outcome.enforce_guard or "nothing proposed"
        console.print(
            f"{mark} {e(outcome.id)}: {e(said)}; enforce: {e(enforce)}  "
            f"({dry.tool_calls} calls, {dry.wall_s:.2f}s + {enforced.wall_s:.2f}s, sandbox {outcome.sandbox_s:.1f}s)"
        )

    try:
        report = run_suite(
            scenarios,
            base=settings.agent_config(),
            sandbox=sandbox_config(settings),
            out_dir=out.parent / "runs",
            jobs=jobs,
            judge=configured_judge(
                settings.eval_judge_model, settings.eval_judge_base_url, settings.eval_judge_api_key
            ),
            on_case=progress,
        )
    except LOAD_ERRORS as exc:
        raise fail(str(exc), code=2) from None
    except sandbox_errors() as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None
    markdown = render_markdown(report)
    if earlier is not None and baseline is not None:
        markdown += "\n" + render_comparison(compare(report, earlier, str(baseline)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.model_dump_json(indent=2))
    out.with_suffix(".md").write_text(markdown)
    out.with_suffix(".html").write_text(render_html(report, out.parent))
    console.print(markdown, markup=False, highlight=False)
    console.print(
        f"reports: {e(str(out))}, {e(str(out.with_suffix('.md')))}, {e(str(out.with_suffix('.html')))}"
    )
    problems = gate_message(check_gates(report, min_ac1=min_ac1, min_remediation=min_remediation))
    if problems:
        raise fail(problems)
