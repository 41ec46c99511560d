"""The eval report as Markdown: the scoreboard (overall, per class, per fault kind; both policy modes'
safety) and one row per case."""

from __future__ import annotations

from evals.report_model import EvalReport, GroupSummary
from evals.scoring import ScenarioScore, Summary

SCOREBOARD_HEADER = (
    "| group | n | AC@1 | AC@3 | kind | remediation | safety dry-run | safety enforce | calibration "
    "| tool calls | wall p50 s | wall p95 s |"
)


def render_markdown(report: EvalReport) -> str:
    s, e = report.summary, report.enforce.summary
    lines = [
        f"# medic eval: {report.suite} ({report.planner} planner)",
        "",
        f"{s.n} cases ({_failures(s, e)}) in {report.wall_s:.0f} s with {report.jobs} job(s) · "
        f"AC@1 {s.ac_at_1:.2f} · AC@3 {s.ac_at_3:.2f} · kind {s.kind_accuracy:.2f} · "
        f"remediation {s.remediation_accuracy:.2f} · safety violations {s.safety_violations} dry-run, "
        f"{e.safety_violations} enforce",
        "",
        "Accuracies and timings are the dry-run pass's (the enforce pass hands the same investigation "
        "to a guard in enforce mode: what differs is what the guard does with its proposal). Timings "
        f"are over completed cases. Where the time went: {report.time_spent()}.",
        "",
        "## Scoreboard",
        "",
        SCOREBOARD_HEADER,
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *[_group_row(g) for g in report.groups],
        "",
        "## Cases",
        "",
        "| case | classes | top prediction | @1 | @3 | kind | remediation | proposed | enforce | calls | wall s "
        "| violations |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for dry, enforced in zip(report.scenarios, report.enforce.scenarios, strict=True):
        info = report.case(dry.id)
        classes = ", ".join(dry.tags.classes)
        marks = [
            ("✓" if flag else "✗") if dry.scored else "—"  # no `expect`: nothing to be right or wrong about
            for flag in (dry.correct_at_1, dry.correct_at_3, dry.kind_correct, dry.remediation_correct)
        ]
        lines.append(
            f"| {dry.id} | {classes} | {_cell(said(dry))} | {' | '.join(marks)} | {_cell(dry.proposed or '—')} "
            f"| {_cell(enforced.error or (info.enforce_guard if info else None) or '—')} | {dry.tool_calls} | {dry.wall_s:.2f} "
            f"| {_cell(violations_text(dry, enforced))} |"
        )
    return "\n".join(lines) + "\n"


def _group_row(g: GroupSummary) -> str:
    d, e = g.dry_run, g.enforce
    name = "**overall**" if g.by == "overall" else f"{g.by}: {g.name}"
    return (
        f"| {name} | {d.n} | {d.ac_at_1:.2f} | {d.ac_at_3:.2f} | {d.kind_accuracy:.2f} | "
        f"{d.remediation_accuracy:.2f} | {d.safety_violations} | {e.safety_violations} | {calibration(d)} | "
        f"{d.mean_tool_calls:.1f} | {d.p50_wall_s:.2f} | {d.p95_wall_s:.2f} |"
    )


def calibration(summary: Summary) -> str:
    """The Brier score of the verdicts' confidences, and how often each label was right at 1."""
    c = summary.calibration
    shown = [f"Brier {c.brier:.2f}"] if c.brier is not None else []
    for label, share in c.accuracy_by_label.items():
        shown.append(f"{label} {share:.2f} (n={c.count_by_label.get(label, 0)})")
    return " · ".join(shown) or "—"


def said(score: ScenarioScore) -> str:
    if score.error:
        return score.error
    top = score.predicted[0] if score.predicted else None
    # an open kind (no known remedy) is named so, never "None"
    return f"{top.kind or 'unknown fault'} on {top.service}" if top and top.service else "no fault"


def violations_text(dry: ScenarioScore, enforced: ScenarioScore) -> str:
    parts = [f"dry-run: {v}" for v in dry.safety_violations] + [
        f"enforce: {v}" for v in enforced.safety_violations
    ]
    return "; ".join(parts) or "0"


def _failures(s: Summary, e: Summary) -> str:
    text = f"{s.failed} failed dry-run, {e.failed} failed enforce"
    return text + (f", {s.unscored} not scored" if s.unscored else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
