"""`medic eval`: every scenario file and recording of a folder, each on a sandbox of its own, triaged
twice (the policy in dry-run, then enforcing with qualified approvers: evals.case_run), scored against
its `expect` (a recording without one is reported, not scored), gathered into the eval report
(evals.report_model: DESIGN §3.8 plus the enforce pass), in parallel processes with `jobs > 1`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from agent.assemble import AgentConfig
from evals.case_run import CaseOutcome
from evals.enforce import ApprovalPath
from evals.metrics.judge_config import JudgeConfig
from evals.parallel import SuiteJob, run_cases
from evals.recordings.manifest import is_recording
from evals.replayable import Replayable, load_replayable
from evals.report_model import CaseInfo, EvalReport, ModeReport, group_summaries
from evals.sandbox.sandbox import SandboxConfig
from evals.scenario import ScenarioError
from evals.scoring import summarise


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


def load_cases(paths: list[Path], where: Path) -> list[Replayable]:
    """Every case, loaded before anything runs (a bad one stops the suite first); ids must be unique."""
    cases = [load_replayable(path) for path in paths]
    ids = [c.id for c in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ScenarioError(f"{where}: scenario and recording ids must be unique: {', '.join(duplicates)}")
    return cases


def run_suite(
    folder: Path,
    *,
    base: AgentConfig,
    sandbox: SandboxConfig,
    out_dir: Path,
    jobs: int = 1,
    approval: ApprovalPath | None = None,
    judge: JudgeConfig | None = None,
    on_case: Callable[[CaseOutcome], None] = lambda outcome: None,
) -> EvalReport:
    """Run the cases of `folder` and report them in the folder's order. A recording's parts are read
    when it is replayed: one that is bad fails its own case with the error, and the others still run.
    `out_dir` holds one run folder per case; `approval` is the enforce pass's approval path (default:
    the guard's own, evals.enforce.GuardApproval); `judge`, when given, scores each report's grounding
    and clarity (else those rubrics say "not run")."""
    started = time.monotonic()
    paths = case_paths(folder)
    cases = load_cases(paths, folder)
    out_dir = out_dir.resolve()
    job = SuiteJob(
        base=base, sandbox=sandbox, out_dir=out_dir, owner=os.getpid(), approval=approval, judge=judge
    )
    outcomes = run_cases(paths, cases, job, jobs=jobs, on_case=on_case)
    return build_report(folder.name, base.planner, outcomes, jobs, time.monotonic() - started)


def build_report(
    suite: str, planner: str, outcomes: list[CaseOutcome], jobs: int, wall_s: float
) -> EvalReport:
    dry = [o.dry_run for o in outcomes]
    enforce = [o.enforce for o in outcomes]
    infos = [
        CaseInfo(
            id=o.id,
            run_dir=_relative(o.run_dir),
            sandbox_s=round(o.sandbox_s, 3),
            enforce_guard=o.enforce_guard,
            case_s=round(o.case_s, 3),
        )
        for o in outcomes
    ]
    return EvalReport(
        suite=suite,
        planner=planner,
        scenarios=dry,
        summary=summarise(dry),
        enforce=ModeReport(scenarios=enforce, summary=summarise(enforce)),
        groups=group_summaries(dry, enforce),
        cases=infos,
        jobs=jobs,
        wall_s=round(wall_s, 3),
    )


def _relative(run_dir: Path) -> str:
    """The run folder as the report names it: relative to the report's own folder (`runs/<id>`)."""
    return f"{run_dir.parent.name}/{run_dir.name}"
