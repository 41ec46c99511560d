"""propose_action: the one action tool, and it never acts.

The action goes to the guard of its incident's thread exactly as the runbook's proposals do (policy,
server-side dry-run, then the approval pause), through the proposal queue a worker takes it from
(`server.store.proposals`). The answer is what the guard said: the decision and its reasons, the
dry-run's diff, and the approval it waits for. Even an action the policy would allow outright waits
for a person (`DOOR_APPROVAL`); approving is for approvers through the API or Slack, never for an MCP
client, whatever its role. The reason and evidence are for the approvers: the policy never reads them.
"""

from __future__ import annotations

import time

import anyio
import anyio.to_thread
import mcp_types as types
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from server.auth import Principal
from server.mcp.catalog import door_tool
from server.mcp.door import Door
from server.mcp.results import answer, problems, refused
from server.mcp.views import approval_route, as_dict, as_list, needs_line
from server.store.models import IncidentRecord
from server.store.proposals import Busy
from tools.action_request import ActionKind, ActionRequest, ParamValue

POLL_S = 0.2


class ProposeAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_id: str = Field(min_length=1, max_length=128, description="the incident the action remedies")
    kind: ActionKind
    target: str = Field(description="<namespace>/deployment/<name>, <namespace>/pod/<name> or node/<name>")
    params: dict[str, ParamValue] = Field(
        default_factory=dict,
        description="scale: {replicas}; rollback: {to_revision} (default: the previous one); "
        "delete_pod: {grace_period_seconds}; the others take none",
    )
    reason: str = Field("", max_length=4000, description="why, for the approvers; the policy never reads it")
    evidence: list[str] = Field(
        default_factory=list, max_length=100, description="evidence ids that support it"
    )


async def propose_action(door: Door, caller: Principal, args: ProposeAction) -> types.CallToolResult:
    """Propose one cluster change (scale, rollout_restart, rollback, delete_pod, cordon, uncordon) for an
    incident that has finished its investigation. medic's guard checks it against the policy and
    dry-runs it on the API server; the answer is the decision with its reasons, the diff, and the
    approval it waits for. Nothing is executed here: an approver approves through medic's API or
    Slack (never over MCP), then medic executes it once and get_incident shows the outcome."""
    budget = door.context.config.summary_max_tokens
    try:
        request = ActionRequest(
            kind=args.kind,
            target=args.target,
            params=args.params,
            incident_id=args.incident_id,
            reason=args.reason,
            evidence=args.evidence,
            requested_by=caller.subject,
        )
    except ValidationError as exc:
        return refused(problems(exc, "propose_action"), budget)
    record = await anyio.to_thread.run_sync(door.services.store.get, request.incident_id)
    if _pending_id(record) != request.action_id:  # the very action already waiting needs nothing new
        try:
            await anyio.to_thread.run_sync(door.proposals.submit, request)
        except Busy as exc:
            return refused(f"not proposed: {exc}", budget)
        record = await _rested(door, request)
    data = outcome(record, request)
    header = f"{request.kind} {request.target}: {data['state']}; {data['decision'] or 'no decision yet'}"
    lines = [f"- {r}" for r in _strings(data["reasons"])]
    lines += [f"diff: {d}" for d in _strings(data["diff"])]
    lines += [f"approval: {data['approval']}", f"executed: {'yes' if data['executed'] else 'no'}"]
    return answer(data, header, lines, max_tokens=budget)


async def _rested(door: Door, request: ActionRequest) -> IncidentRecord:
    """The incident once a worker handed the action to the guard and recorded the next rest point, or
    as it stands when the wait runs out (the answer then says it is still being checked)."""
    deadline = time.monotonic() + door.config.propose_wait_s
    while True:
        record = await anyio.to_thread.run_sync(door.services.store.get, request.incident_id)
        at_rest = record.state not in ("queued", "investigating")
        if at_rest and await anyio.to_thread.run_sync(
            door.proposals.taken, request.incident_id, request.action_id
        ):
            return record
        if time.monotonic() >= deadline:
            return record
        await anyio.sleep(POLL_S)


def _pending_id(record: IncidentRecord) -> str | None:
    return str(record.pending.get("action_id")) if record.pending else None


def _headline(decision: dict[str, JsonValue]) -> str:
    """`Decision.headline` of a decision's JSON: the outcome, and in dry_run mode what enforcing would do."""
    outcome, enforce, mode = decision.get("outcome"), decision.get("enforce_outcome"), decision.get("mode")
    if mode == "dry_run" and enforce != outcome:
        return f"{outcome} (dry_run mode; in enforce mode: {enforce})"
    return f"{outcome} ({mode} mode)"


def _strings(value: JsonValue) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def outcome(record: IncidentRecord, request: ActionRequest) -> dict[str, JsonValue]:
    """What the guard made of `request`, from the incident's pending approval or its report."""
    base: dict[str, JsonValue] = {
        "incident_id": record.id,
        "action_id": request.action_id,
        "action": request.exact().model_dump(mode="json", exclude={"incident_id"}),
        "requested_by": request.requested_by,
        "executed": False,
    }
    pending = record.pending or {}
    if pending.get("action_id") == request.action_id:
        # read as JSON: a Decision's durations do not parse back from their JSON form
        decision = pending.get("decision") if isinstance(pending.get("decision"), dict) else {}
        assert isinstance(decision, dict)
        needs = [needs_line(n) for n in as_list(pending.get("needs"))]
        return {
            **base,
            "state": "awaiting_approval",
            "decision": _headline(decision),
            "reasons": [
                f"{m.get('rule')} ({m.get('effect')}): {m.get('why')}"
                for m in map(as_dict, as_list(decision.get("matched")))
            ],
            "diff": pending.get("changes", []),
            "kubectl": pending.get("kubectl", ""),
            "approval": f"pending: {'; '.join(needs) or 'an approver'}; an approver answers "
            f"{approval_route(record.id, request.action_id)} or in Slack",
        }
    report = record.report or {}
    guard = report.get("guard")
    if isinstance(guard, dict) and guard.get("action_id") == request.action_id:
        return {
            **base,
            "state": str(guard.get("stage") or "checked"),
            "decision": guard.get("decision"),
            "reasons": guard.get("matched_rules", []),
            "diff": guard.get("diff", []),
            "kubectl": "; ".join(_strings(guard.get("kubectl", []))),
            "approval": guard.get("approval") or "none: nothing waits for approval",
            "executed": guard.get("stage") == "executed",
        }
    proposal = report.get("proposal")
    action = proposal.get("action") if isinstance(proposal, dict) else None
    if (
        record.state == "finished"
        and isinstance(action, dict)
        and action.get("action_id") == request.action_id
    ):
        why = "medic has no Kubernetes access here: nothing can be checked or executed"
        return {
            **base,
            "state": "no_guard",
            "decision": None,
            "reasons": [why],
            "diff": [],
            "approval": "none",
        }
    why = f"the guard has not answered yet (incident {record.state}): get_incident shows its decision"
    return {
        **base,
        "state": "checking",
        "decision": None,
        "reasons": [why],
        "diff": [],
        "approval": "not yet",
    }


PROPOSE_TOOL = door_tool(
    propose_action,
    role="responder",
    annotations=types.ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=True),
)
