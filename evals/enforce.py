"""The enforce-mode half of an eval case: the policy switched to `enforce`, and an approval path with
qualified approvers who approve whatever the guard asks, so that anything the guard lets through is
really executed against the sandbox's Kubernetes emulator and can be counted (evals.execution_safety).

The approval path is the guard's own (LangGraph's interrupt answered through `Agent.resume`, as
`medic triage --approve yes` does), not the incident service's: `evals` sits below `server` in the
import layers (pyproject's import-linter contracts), and the service's path only adds a store and a
queue in front of the same `Agent.resume`; what decides and executes is the guard either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

import yaml
from pydantic import JsonValue

from agent.assemble import Agent, Event
from policies.approvals import Approval
from policies.approver import Approver
from policies.loader import DEFAULT_POLICY_PATH, parse_policy

PolicyMode = Literal["dry_run", "enforce"]
EVAL_APPROVER_PREFIX = "eval-approver"  # never the requester ("medic"): self-approval stays refused


def policy_in_mode(policy_file: Path | None, mode: PolicyMode, out: Path) -> Path:
    """The configured policy (or the shipped default) with `mode` set, written to `out`; every rule,
    limit and protected namespace stays as configured. Raises PolicyError if the result is invalid."""
    text = (policy_file or DEFAULT_POLICY_PATH).read_text()
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{policy_file or DEFAULT_POLICY_PATH}: a policy is a mapping")
    data["mode"] = mode
    rewritten = yaml.safe_dump(data, sort_keys=False)
    parse_policy(rewritten, str(out))  # fail here, with the file named, rather than in the agent
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(rewritten)
    return out


def qualified_approvers(payload: dict[str, JsonValue]) -> list[Approver]:
    """As many distinct approvers as the strictest requirement in the guard's request needs, each
    holding every role and group any requirement names: whatever the guard asks is approved."""
    roles: set[str] = set()
    groups: set[str] = set()
    wanted = 1
    needs = payload.get("needs")
    for need in needs if isinstance(needs, list) else []:
        requirement = need.get("requirement") if isinstance(need, dict) else None
        if not isinstance(requirement, dict):
            continue
        roles |= {r for r in _strings(requirement.get("roles"))}
        groups |= {g for g in _strings(requirement.get("groups"))}
        count = requirement.get("min_approvers")
        wanted = max(wanted, count if isinstance(count, int) else 1)
    return [
        Approver(identity=f"{EVAL_APPROVER_PREFIX}-{n}", roles=sorted(roles), groups=sorted(groups))
        for n in range(1, wanted + 1)
    ]


def _strings(value: JsonValue) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


@dataclass(frozen=True)
class ApprovalContext:
    """What an approval path may know beyond the guard's request: where the sandbox's cluster is."""

    kubernetes_url: str
    kubeconfig: Path
    on_event: Callable[[Event], None]


class ApprovalPath(Protocol):
    """Answers the approval the investigation `incident_id` is paused on; the guard then executes."""

    def __call__(
        self, agent: Agent, incident_id: str, payload: dict[str, JsonValue], context: ApprovalContext
    ) -> None: ...


class GuardApproval:
    """The guard's own approval path: qualified approvers approve exactly the action in the request,
    and the thread resumes (the guard re-evaluates, dry-runs again, claims the action id, executes)."""

    def __call__(
        self, agent: Agent, incident_id: str, payload: dict[str, JsonValue], context: ApprovalContext
    ) -> None:
        now = datetime.now(UTC)
        approvals: list[Approval] = [
            approver.answer(payload, approve=True, now=now) for approver in qualified_approvers(payload)
        ]
        agent.resume(incident_id, approvals, context.on_event)
