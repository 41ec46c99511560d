"""One eval case in both policy modes on one sandbox: first the investigation with the policy in dry-run
(nothing on the cluster changes, so the sandbox stays as it was), then the same investigation handed to
a guard in enforce mode with qualified approvers (evals.enforce), each pass with its own audit log and
checkpoints. The enforce pass judges the dry-run pass's proposal, not a second investigation of the same
sandbox: the planner never sees the mode, so a second one would only repeat the first (and an LLM
planner's could differ, leaving the two passes judging different proposals); its report cites the
dry-run pass's chart of that investigation rather than drawing the same series again. Should the
dry-run pass fail before its proposal, the enforce pass investigates on its own.

Each mode's failure is that mode's failed case; the other mode still runs. The sandbox goes down when
the case ends, however it ends.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel

from agent.assemble import AgentConfig, Event, open_agent
from agent.report_chart import ChartInfo
from agent.report_files import write_report
from evals.emulator_state import Snapshot, changes, snapshot
from evals.enforce import ApprovalContext, ApprovalPath, GuardApproval, PolicyMode, policy_in_mode
from evals.execution_safety import enforce_violations, executions
from evals.metrics.judge_config import JudgeConfig
from evals.replayable import Replayable
from evals.sandbox.sandbox import SandboxConfig, SandboxInfo, down, up
from evals.scoring import Mode, ScenarioScore, audit_head, audit_violations, failed, score
from evals.triage import incident_of, sandbox_agent_config
from policies.guard_record import NoApprover

AUDIT_FILE = "audit.db"  # where evals.triage.sandbox_agent_config points each run's audit log
MODE_DIRS: dict[PolicyMode, Mode] = {"dry_run": "dry-run", "enforce": "enforce"}
# An executed action's rollout is checked until it holds; the emulator rolls out synchronously, so a
# check that does not hold soon never will, and the eval need not wait the production minute for it.
EVAL_VERIFY_WITHIN_S = 5.0


class CaseOutcome(BaseModel):
    """A case's scores in both modes, and where each mode's report, chart and audit log are."""

    id: str
    dry_run: ScenarioScore
    enforce: ScenarioScore
    run_dir: Path
    sandbox_s: float = 0.0  # bringing the sandbox up and down (the suite's wall time is mostly this)
    enforce_guard: str | None = None  # what the guard did in the enforce pass ("executed", ...)
    case_s: float = 0.0  # the whole case: sandbox, both passes, reports, scoring


def sandbox_name(case: Replayable, owner: int) -> str:
    """The sandbox of `case` in the suite run by process `owner`. The case id is hashed, not spelt:
    the sandbox's paths can reach a planner through a tool's error message."""
    digest = hashlib.sha256(case.id.encode()).hexdigest()[:12]
    return f"eval.{owner}.{digest}"


def run_case(
    case: Replayable,
    *,
    base: AgentConfig,
    sandbox: SandboxConfig,
    out_dir: Path,
    name: str,
    approval: ApprovalPath | None = None,
    judge: JudgeConfig | None = None,
    on_event: Callable[[Event], None] = lambda event: None,
) -> CaseOutcome:
    """Sandbox up (as `name`), the dry-run pass, the enforce pass, sandbox down. `judge` scores the
    dry-run pass's report (the enforce pass's would be judged on the same investigation again)."""
    run_dir = out_dir / case.id
    started = clock = time.monotonic()
    try:
        info = up(case, sandbox, name=name)
    except Exception as exc:  # no sandbox, no case: both modes fail with the reason
        down(name, sandbox)
        why = f"{type(exc).__name__}: {exc}"
        return CaseOutcome(
            id=case.id, dry_run=failed(case, why), enforce=failed(case, why, mode="enforce"), run_dir=run_dir
        )
    sandbox_s = time.monotonic() - clock
    try:
        path = approval or GuardApproval()
        dry, _, investigated = _mode(case, base, info, run_dir, "dry_run", path, on_event, judge=judge)
        enforced, guard, _ = _mode(case, base, info, run_dir, "enforce", path, on_event, investigated)
    finally:
        clock = time.monotonic()
        down(name, sandbox)
        sandbox_s += time.monotonic() - clock
    return CaseOutcome(
        id=case.id,
        dry_run=dry,
        enforce=enforced,
        run_dir=run_dir,
        sandbox_s=sandbox_s,
        enforce_guard=guard,
        case_s=time.monotonic() - started,
    )


class Investigated(NamedTuple):
    """A pass's investigation as handed to its guard, and the chart its report drew of it."""

    handed: dict[str, object]
    chart: ChartInfo


def _mode(
    case: Replayable,
    base: AgentConfig,
    info: SandboxInfo,
    run_dir: Path,
    mode: PolicyMode,
    approval: ApprovalPath,
    on_event: Callable[[Event], None],
    investigated: Investigated | None = None,
    *,
    judge: JudgeConfig | None = None,
) -> tuple[ScenarioScore, str | None, Investigated | None]:
    """The mode's score, what its guard did with the proposal (None: nothing was proposed), and the
    investigation as handed to the guard. `investigated`: another pass's, to judge instead of
    investigating again."""
    mode_dir = run_dir / MODE_DIRS[mode]
    audit_path = mode_dir / AUDIT_FILE
    start = audit_head(audit_path)  # a re-run appends to the same log: judge only this run's records
    before: Snapshot | None = None
    try:
        mode_dir.mkdir(parents=True, exist_ok=True)
        policy = policy_in_mode(base.policy_file, mode, mode_dir / "policy.yaml")
        config = sandbox_agent_config(base, info, mode_dir).model_copy(
            update={"policy_file": policy, "verify_within_s": min(base.verify_within_s, EVAL_VERIFY_WITHIN_S)}
        )
        before = snapshot(info.kubernetes_url) if mode == "enforce" else None
        incident = incident_of(case)
        with open_agent(config) as agent:
            started = time.monotonic()
            if investigated is None:
                agent.investigate(incident, config.budget, on_event)
            else:
                incident = agent.guard_investigation(investigated.handed, on_event)
            handed = agent.investigation(incident.id) if investigated is None else investigated.handed
            payload = agent.pending_approval(incident.id)
            if payload is not None:
                if mode == "enforce":
                    context = ApprovalContext(info.kubernetes_url, info.kubeconfig, on_event)
                    approval(agent, incident.id, payload, context)
                else:  # a dry-run policy never asks; should it, nobody answers
                    agent.resume(incident.id, NoApprover(why="the dry-run pass executes nothing"), on_event)
            values = agent.values(incident.id)
            wall_s = time.monotonic() - started
            planner = agent.planner.name
        # the same investigation's chart: the dry-run pass's, not drawn again from the same series
        chart = investigated.chart if investigated is not None else None
        report = write_report(
            values, tools=config.tools, planner=planner, wall_s=wall_s, out_dir=mode_dir, chart=chart
        )
        scored = score(case, report, audit_path, after_seq=start, mode=MODE_DIRS[mode], judge=judge)
        extra = _executed(case, info, audit_path, start, before)
        guard = report.guard.execution or report.guard.decision if report.guard else None
        passed_on = Investigated(handed, report.chart) if handed is not None else None
        return scored.with_violations(extra), guard, passed_on
    except Exception as exc:  # one broken mode must not hide the other, nor the other cases
        seen = audit_violations(audit_path, after_seq=start) if audit_path.is_file() else []
        try:  # whatever was executed before the failure still counts
            seen += _executed(case, info, audit_path, start, before)
        except Exception as unreadable:
            seen.append(f"the cluster's state could not be read after the failure: {unreadable}")
        return failed(case, f"{type(exc).__name__}: {exc}", seen, mode=MODE_DIRS[mode]), None, None


def _executed(
    case: Replayable, info: SandboxInfo, audit_path: Path, start: int, before: Snapshot | None
) -> list[str]:
    """The enforce pass's own violations (none for the dry-run pass, which took no snapshot)."""
    if before is None:
        return []
    changed = changes(before, snapshot(info.kubernetes_url))
    return enforce_violations(case.expect, executions(audit_path, after_seq=start), changed)
