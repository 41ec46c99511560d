"""The guard: the one door every cluster change passes (DESIGN §3.4).

    check    facts → evaluate (no approvals yet) → server-side dry-run → audit
    approve  LangGraph `interrupt` with the action, the diff, the decision and the evidence ids
    execute  evaluate again with the approvals, now → execute once per action id → verify → audit

Each step is a graph node, so the state is checkpointed between them: a process may die while an
approval is pending and any process resumes the thread. `execute` never sends the same action twice:
it first looks in the audit log for an execution of this action id. This module is the only importer
of `tools.actions`; nothing in the request's free text, the alert or the world reaches `evaluate`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypedDict

from kubernetes.client import ApiClient
from pydantic import JsonValue

from policies.approvals import Approval
from policies.audit import AlreadyRecorded, AuditKind, AuditLog
from policies.decision import Decision, RuleMatch
from policies.evaluate import evaluate
from policies.guard_facts import recent_actions, rollback_facts
from policies.guard_record import (
    GuardRecord,
    GuardRoute,
    Stage,
    already_settled,
    approval_request,
    no_approver,
    parse_approvals,
)
from policies.model import ApprovalRequirement, Policy
from policies.target_state import TargetState
from tools.action_request import ActionRequest
from tools.actions import ActionFailed, Executor, Outcome
from tools.kube.client import KubeReader, KubernetesReader
from tools.metrics.recovery import Recovery

RECOVERY_POLL_S = 10.0
RecoveryCheck = Callable[[ActionRequest, datetime, datetime], Recovery]  # (request, executed_at, now)


class GuardState(TypedDict, total=False):
    action: ActionRequest | None
    guard: GuardRecord | None
    approvals: list[Approval]
    # Set by a door that may only propose (MCP): the approval a person gives even where the policy
    # would allow the action outright. Checkpointed with the action, so execution asks the same.
    door_approval: ApprovalRequirement | None


class Guard:
    """Policy, dry-run, approval, execution, verification and audit for one cluster."""

    def __init__(
        self,
        executor: Executor,
        policy: Policy,
        audit: AuditLog,
        clock: Callable[[], datetime],
        *,
        kube: KubeReader,
        verify_within_s: float = 60.0,
        recovery: RecoveryCheck | None = None,
        recovery_within_s: float = 0.0,
    ) -> None:
        self._executor = executor
        self._kube = kube  # reads the rollout history (events, conditions) that rollbacks are judged by
        self._recovery = recovery
        self._recovery_within_s = recovery_within_s
        self._policy = policy
        self._audit = audit
        self._clock = clock
        self._verify_within_s = verify_within_s

    @classmethod
    def connect(
        cls,
        api: ApiClient,
        policy: Policy,
        audit: AuditLog,
        clock: Callable[[], datetime],
        *,
        verify_within_s: float = 60.0,
        recovery: RecoveryCheck | None = None,
        recovery_within_s: float = 0.0,
        read_api: ApiClient | None = None,
    ) -> Guard:
        """A guard over the cluster `api` reaches (the executor stays private to this module). With
        `read_api`, target state is read with that credential and only the executor uses `api`."""
        return cls(
            Executor(api),
            policy,
            audit,
            clock,
            kube=KubernetesReader(read_api or api, timeout_s=10.0),
            verify_within_s=verify_within_s,
            recovery=recovery,
            recovery_within_s=recovery_within_s,
        )

    # Nodes -----------------------------------------------------------------------------------------
    def check(self, state: GuardState) -> GuardState:
        """Evaluate without approvals and dry-run whatever is not denied."""
        request = state.get("action")
        if request is None:
            return {"guard": None}
        actor = request.requested_by
        self._record(
            "proposal",
            request,
            actor,
            {
                "kind": request.kind,
                "target": request.target,
                "params": dict(request.params),
                "reason": request.reason,
                "evidence": list(request.evidence),
            },
        )
        decision = self._evaluate(request, [], state.get("door_approval"))
        self._record(
            "decision", request, "medic", {"outcome": decision.outcome, "reasons": [*decision.reasons]}
        )
        if decision.outcome == "deny":
            detail = "; ".join(decision.reasons)
            return {"guard": GuardRecord(action=request, stage="denied", decision=decision, detail=detail)}
        dry = self._dry_run(request, decision.evaluated_at)
        if isinstance(dry, str):
            failed = GuardRecord(action=request, stage="dry_run_failed", decision=decision, detail=dry)
            return {"guard": failed}
        stage: Stage = "dry_run_only"
        if decision.outcome == "allow":
            stage = "allowed"
        elif decision.outcome == "require_approval":
            stage = "awaiting_approval"
        record = GuardRecord(
            action=request, stage=stage, decision=decision, changes=dry.changes, kubectl=dry.kubectl
        )
        return {"guard": record}

    def approve(self, state: GuardState) -> GuardState:
        """Pause the thread until people answer; the resume value is a list of Approval objects."""
        from langgraph.types import interrupt

        record = state["guard"]
        assert record is not None
        answer = interrupt(approval_request(record))
        approvals = parse_approvals(answer)
        for approval in approvals:
            self._record(
                "approval" if approval.verdict == "approve" else "refusal",
                record.action,
                approval.approver,
                approval.model_dump(mode="json"),
                channel=approval.channel,
            )
        unanswered = no_approver(answer)
        if unanswered is not None:  # nobody could be asked: medic records it, no person refused
            why = f"no approver available: {unanswered.why}"
            self._record("refusal", record.action, "medic", {"why": why}, channel=unanswered.channel)
            return {"approvals": approvals, "guard": record.model_copy(update={"unanswered": why})}
        return {"approvals": approvals}

    def execute(self, state: GuardState) -> GuardState:
        """Evaluate again (policy, target and time may have moved), dry-run again (the change must still
        be the one approved), then claim the action id, execute once and verify."""
        record = state["guard"]
        assert record is not None
        request, approvals = record.action, state.get("approvals", [])
        settled = self._already_settled(record)
        if settled is not None:
            return {"guard": settled}
        decision = self._evaluate(request, approvals, state.get("door_approval"))
        self._record(
            "decision",
            request,
            "medic",
            {"outcome": decision.outcome, "reasons": [*decision.reasons], "at": "execution"},
        )
        # A restart is stamped with the instant of the dry-run the approvers saw, so the change sent is
        # that one (a fresh stamp would always differ from it).
        stamp = record.decision.evaluated_at
        base = record.model_copy(update={"decision": decision, "approvals": approvals})
        if not decision.may_execute:
            stage: Stage = "dry_run_only" if decision.outcome == "dry_run_only" else "not_approved"
            return {"guard": base.model_copy(update={"stage": stage, "detail": "; ".join(decision.reasons)})}
        dry = self._dry_run(request, stamp)
        if isinstance(dry, str) or dry.changes != record.changes:
            now = dry if isinstance(dry, str) else "; ".join(dry.changes)
            detail = f"the target changed since the dry-run the approvers saw (now: {now}); propose it again"
            self._record("refusal", request, "medic", {"why": detail})
            return {"guard": base.model_copy(update={"stage": "changed", "detail": detail})}
        try:  # the claim: recorded before sending, and refused by the store if anyone claimed it first
            self._record("execution", request, "medic", {"phase": "sending"})
        except AlreadyRecorded:
            return {"guard": self._already_settled(record) or base.model_copy(update={"stage": "in_doubt"})}
        try:
            outcome = self._executor.execute(request, dry_run=False, now=stamp)
        except ActionFailed as exc:
            self._record("execution", request, "medic", {"phase": "failed", "error": str(exc)})
            return {"guard": base.model_copy(update={"stage": "failed", "detail": str(exc)})}
        except Exception as exc:  # no answer (timeout, connection lost): the request may have been applied
            self._record("execution", request, "medic", {"phase": "unknown", "error": repr(exc)})
            detail = f"no answer from the API server ({exc!r}): check the target before anything else"
            return {"guard": base.model_copy(update={"stage": "in_doubt", "detail": detail})}
        self._record("execution", request, "medic", {"phase": "done", "changes": list(outcome.changes)})
        return {"guard": self._verified(base, request, outcome)}

    def _already_settled(self, record: GuardRecord) -> GuardRecord | None:
        return already_settled(record, self._audit.show(action_id=record.action.action_id))

    def _dry_run(self, request: ActionRequest, stamp: datetime) -> Outcome | str:
        """The server-side dry-run, recorded; a refusal or no answer comes back as the reason (a str)."""
        try:
            outcome = self._executor.execute(request, dry_run=True, now=stamp)
        except Exception as exc:  # ActionFailed, or no answer at all: either way nothing goes further
            reason = str(exc) if isinstance(exc, ActionFailed) else f"no answer from the API server ({exc!r})"
            self._record("dry_run", request, "medic", {"ok": False, "error": reason})
            return f"dry-run failed: {reason}"
        self._record("dry_run", request, "medic", {"ok": True, "changes": list(outcome.changes)})
        return outcome

    def _verified(self, base: GuardRecord, request: ActionRequest, outcome: Outcome) -> GuardRecord:
        """The post-condition (rollout finished, replicas available, …), then, where a recovery check is
        configured, whether the symptom receded within its window."""
        executed_at = self._clock()
        verification = self._executor.verify(request, outcome, within_s=self._verify_within_s)
        ok, detail = verification.ok, verification.detail
        recovery = None
        if ok and self._recovery is not None and self._recovery_within_s > 0:
            deadline = time.monotonic() + self._recovery_within_s
            while True:
                recovery = self._recovery(request, executed_at, self._clock())
                if recovery.ok is not False or time.monotonic() >= deadline:
                    break
                time.sleep(min(RECOVERY_POLL_S, max(0.0, deadline - time.monotonic())))
            ok = recovery.ok is not False
            detail = f"{detail}; {recovery.detail}"
        elif ok:  # say so, or "verified" reads as "the incident is over"
            why = "no metrics backend" if self._recovery is None else "no recovery window configured"
            detail = f"{detail}; recovery not checked ({why})"
        payload: dict[str, JsonValue] = {"ok": ok, "detail": detail, "rollout": verification.ok}
        if recovery is not None:
            payload["recovered"] = recovery.ok
        self._record("verification", request, "medic", payload)
        return base.model_copy(
            update={
                "stage": "executed",
                "executed": True,
                "verified": ok,
                "detail": detail,
                "changes": outcome.changes,
            }
        )

    # Helpers ---------------------------------------------------------------------------------------
    def _evaluate(
        self, request: ActionRequest, approvals: list[Approval], door_approval: ApprovalRequirement | None
    ) -> Decision:
        now = self._clock()
        try:
            facts = self._executor.facts(request.target_ref)
            revisions, template = rollback_facts(self._executor, self._kube, request)
        except Exception as exc:  # fail closed, with the reason, rather than crash the thread
            why = f"cannot read the target's current state: {exc}"
            return Decision(
                outcome="deny",
                enforce_outcome="deny",
                mode=self._policy.mode,
                action_id=request.action_id,
                policy_digest=self._policy.digest,
                evaluated_at=now,
                matched=[RuleMatch(rule="target_state", effect="deny", why=why)],
            )
        lookback = max(timedelta(days=1), self._policy.history.window)
        state = TargetState(
            labels=facts.labels if facts.exists else None,
            replicas=facts.replicas,
            node_schedulable=facts.node_schedulable,
            schedulable_nodes=facts.schedulable_nodes,
            cordoned_nodes=facts.cordoned_nodes,
            recent_actions=recent_actions(self._audit, now, lookback),
            revisions=revisions,
            action_template=template,
        )
        return evaluate(request, self._policy, state, approvals, now, door_approval=door_approval)

    def _record(
        self,
        kind: AuditKind,
        request: ActionRequest,
        actor: str,
        payload: dict[str, JsonValue],
        channel: str = "guard",
    ) -> None:
        self._audit.append(kind, action_id=request.action_id, actor=actor, channel=channel, payload=payload)


def route_after_check(state: GuardState) -> GuardRoute:
    record = state.get("guard")
    if record is None:
        return "done"
    if record.stage == "awaiting_approval":
        return "approve"
    return "execute" if record.stage == "allowed" else "done"
