"""`medic eval`: every scenario file and recording of a folder through a triage (approvals answered
yes), scored against its `expect` (a recording without one is reported, not scored), gathered into
the DESIGN §3.8 report (JSON, and Markdown for people)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agent.assemble import AgentConfig
from evals.recordings.manifest import is_recording
from evals.replayable import Replayable, load_replayable
from evals.sandbox.sandbox import SandboxConfig, SandboxError
from evals.scenario import ScenarioError
from evals.scoring import (
    ScenarioScore,
    SuiteReport,
    audit_head,
    audit_violations,
    failed,
    score,
    summarise,
)
from evals.triage import triage
from policies.approver import Approver

AUDIT_FILE = "audit.db"  # where evals.triage.sandbox_agent_config points the run's audit log


def case_paths(folder: Path) -> list[Path]:
    """The scenario files (*.yaml) and recordings (every sub-folder) of `folder`, or `folder` itself
    when it is a recording. A sub-folder without a manifest is an error when it is loaded, not skipped:
    a recording that silently dropped out would make the suite look better than it is."""
    if is_recording(folder):
        return [folder]
    files = [*folder.glob("*.yaml"), *folder.glob("*.yml")]
    folders = (
        [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")] if folder.is_dir() else []
    )
    if not files and not folders:
        raise ScenarioError(
            f"{folder}: no scenario files (*.yaml) or recordings (folders with a manifest.yaml) found"
        )
    return sorted([*files, *folders])


def run_suite(
    folder: Path,
    *,
    base: AgentConfig,
    sandbox: SandboxConfig,
    approver: Approver,
    out_dir: Path,
    on_scenario: Callable[[ScenarioScore], None] = lambda score: None,
) -> SuiteReport:
    """Load every scenario and recording manifest first (a bad one stops the suite before anything
    runs), then triage each. A recording's parts are read when it is replayed: one that is bad fails
    its own case with the error, and the others still run."""
    scenarios: list[Replayable] = [load_replayable(path) for path in case_paths(folder)]
    ids = [s.id for s in scenarios]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ScenarioError(f"{folder}: scenario and recording ids must be unique: {', '.join(duplicates)}")
    scores = []
    for scenario in scenarios:
        run_dir = out_dir / scenario.id
        audit_path = run_dir / AUDIT_FILE
        start = audit_head(audit_path)  # a re-run appends to the same log: judge only this run's executions
        try:
            result = triage(
                scenario, base=base, sandbox=sandbox, approve="yes", approver=approver, out_dir=run_dir
            )
            scored = score(scenario, result.report, audit_path, after_seq=start)
        except (SandboxError, ValueError, RuntimeError) as exc:  # one broken case must not hide the others
            # whatever the guard did before the failure still counts
            seen = audit_violations(audit_path, after_seq=start) if audit_path.is_file() else []
            scored = failed(scenario, f"{type(exc).__name__}: {exc}", seen)
        scores.append(scored)
        on_scenario(scored)
    return SuiteReport(suite=folder.name, planner=base.planner, scenarios=scores, summary=summarise(scores))


def render_markdown(report: SuiteReport) -> str:
    s = report.summary
    lines = [
        f"# medic eval: {report.suite} ({report.planner} planner)",
        "",
        f"{s.n} scenarios ({s.failed} failed{f', {s.unscored} not scored' if s.unscored else ''}) · AC@1 {s.ac_at_1:.2f} · AC@3 {s.ac_at_3:.2f} · "
        f"kind {s.kind_accuracy:.2f} · remediation {s.remediation_accuracy:.2f} · safety violations {s.safety_violations} · "
        f"tool calls {s.mean_tool_calls:.1f} · wall p50 {s.p50_wall_s:.2f}s p95 {s.p95_wall_s:.2f}s "
        "(completed scenarios)",
        "",
        "| scenario | top prediction | @1 | @3 | kind | remediation | proposed | calls | wall s | violations |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in report.scenarios:
        top = c.predicted[0] if c.predicted else None
        shown = c.error or (f"{top.kind} on {top.service}" if top and top.service else "no fault")
        marks = [
            ("✓" if flag else "✗") if c.scored else "—"  # no `expect`: nothing to be right or wrong about
            for flag in (c.correct_at_1, c.correct_at_3, c.kind_correct, c.remediation_correct)
        ]
        lines.append(
            f"| {c.id} | {shown} | {' | '.join(marks)} | {c.proposed or '—'} | {c.tool_calls} | "
            f"{c.wall_s:.2f} | {'; '.join(c.safety_violations) or 0} |"
        )
    return "\n".join(lines) + "\n"
