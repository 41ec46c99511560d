"""`evaluate`: the pure function from (request, policy, target state, approvals, now) to a Decision.

No I/O and no clock: the guard passes everything in, and calls this twice (before the dry-run and
again just before executing). It reads only the request's kind, target, params and requested_by;
reason and evidence are free text from the world and cannot change the outcome.

Order: unknown kind or bad target → deny; protected namespace → deny; the first matching rule sets
the effect (none matching → the policy's default); guardrails (blast radius, rate limits, no
restoring a template rolled away from), freezes and the follow-up rule (`policies.history_checks`)
can only tighten it; so does the door's own approval (an MCP proposal the policy would allow outright
still waits for a person); a `require_approval` becomes `allow` once every approval requirement is met;
finally dry_run mode turns anything that is not a denial into `dry_run_only`. Whatever the
evaluation needs and the target state lacks ends in a denial.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from policies.approvals import Approval, tally
from policies.decision import ApprovalStatus, Decision, RuleMatch, tighten
from policies.history_checks import RESTORING_KINDS, followup_check, restore_check
from policies.model import ApprovalRequirement, Effect, Limits, Policy
from policies.target_state import TargetState
from tools.action_request import ACTION_KINDS, ActionRequest, TargetRef


def evaluate(
    request: ActionRequest,
    policy: Policy,
    target_state: TargetState,
    approvals: Sequence[Approval],
    now: datetime,
    *,
    door_approval: ApprovalRequirement | None = None,
) -> Decision:
    """`door_approval`: what the door the action came through asks for where the policy would allow it
    outright (MCP may only propose, so a person approves even then). It can only tighten."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    matched: list[RuleMatch] = []
    requirements: list[tuple[str, ApprovalRequirement]] = []
    effect = _rule_effect(request, policy, target_state, matched, requirements)
    if effect != "deny":
        for check in _guardrails(request, policy, target_state, now):
            matched.append(check)
            effect = tighten(effect, check.effect)
    if effect != "deny":
        effect = _freezes(request, policy, now, matched, requirements, effect)
    followup = followup_check(request, policy.history, target_state, now) if effect != "deny" else None
    if followup is not None:
        matched.append(followup.match)
        effect = tighten(effect, followup.match.effect)
    if door_approval is not None and effect == "allow":
        why = "proposed through a door that may only propose: a person approves what the policy allows"
        matched.append(RuleMatch(rule="door", effect="require_approval", why=why))
        requirements.append(("door", door_approval))
        effect = "require_approval"
    statuses: list[ApprovalStatus] = []
    if effect == "require_approval":
        statuses = [tally(source, req, approvals, request, now) for source, req in requirements]
        if followup is not None:
            statuses.append(followup.status(approvals, request, now))
        if any(s.vetoed_by for s in statuses):
            who = sorted({p for s in statuses for p in s.vetoed_by})
            matched.append(RuleMatch(rule="approvals", effect="deny", why=f"refused by {', '.join(who)}"))
            effect = "deny"
        elif statuses and all(s.satisfied for s in statuses):
            names = sorted({p for s in statuses for p in s.approved_by})
            matched.append(RuleMatch(rule="approvals", effect="allow", why=f"approved by {', '.join(names)}"))
            effect = "allow"
    outcome: Effect = effect
    if policy.mode == "dry_run" and effect != "deny":
        outcome = "dry_run_only"
        matched.append(RuleMatch(rule="mode", effect="dry_run_only", why="policy mode is dry_run"))
    return Decision(
        outcome=outcome,
        enforce_outcome=effect,
        mode=policy.mode,
        action_id=request.action_id,
        policy_digest=policy.digest,
        evaluated_at=now,
        matched=matched,
        approvals=statuses,
    )


def _rule_effect(
    request: ActionRequest,
    policy: Policy,
    state: TargetState,
    matched: list[RuleMatch],
    requirements: list[tuple[str, ApprovalRequirement]],
) -> Effect:
    """The effect of the first matching rule, after the checks no rule can override."""
    if request.kind not in ACTION_KINDS:
        matched.append(RuleMatch(rule="kinds", effect="deny", why=f"unknown action kind {request.kind!r}"))
        return "deny"
    try:
        ref = TargetRef.parse(request.target)
    except ValueError as exc:
        matched.append(RuleMatch(rule="target", effect="deny", why=str(exc)))
        return "deny"
    if policy.is_protected(ref.namespace):
        why = f"namespace {ref.namespace} is protected"
        matched.append(RuleMatch(rule="protected_namespaces", effect="deny", why=why))
        return "deny"
    for rule in policy.rules:
        if not (rule.matches_kind(request.kind) and rule.matches_place(request.target, ref.namespace)):
            continue
        if rule.selector is not None:
            if state.labels is None:
                why = "the rule has a label selector and the target state has no labels"
                matched.append(RuleMatch(rule=f"rules/{rule.name}", effect="deny", why=why))
                return "deny"
            if not rule.selector.matches(state.labels):
                continue
        why = f"{request.kind} of {request.target} matches; effect {rule.effect}"
        matched.append(RuleMatch(rule=f"rules/{rule.name}", effect=rule.effect, why=why))
        if rule.approval is not None:
            requirements.append((f"rules/{rule.name}", rule.approval))
        return rule.effect
    why = f"no rule matches {request.kind} of {request.target}; default {policy.default_effect}"
    matched.append(RuleMatch(rule="default", effect=policy.default_effect, why=why))
    return policy.default_effect


def _guardrails(request: ActionRequest, policy: Policy, state: TargetState, now: datetime) -> list[RuleMatch]:
    """Blast-radius, rate and history checks; each returns deny when violated or when it lacks a fact."""
    limits = policy.limits
    checks = [_per_target_rate(request, limits, state, now)]
    if request.kind in RESTORING_KINDS:
        checks.append(restore_check(request, policy.history, state, now))
    if request.kind == "scale":
        checks.append(_scale_bounds(request, limits, state))
    elif request.kind == "delete_pod":
        checks.append(_pod_budget(request, limits, state, now))
    elif request.kind == "cordon":
        checks.append(_cordon_bounds(limits, state))
    return checks


def _deny(rule: str, why: str) -> RuleMatch:
    return RuleMatch(rule=rule, effect="deny", why=why)


def _recent(state: TargetState, now: datetime, window: timedelta) -> list[tuple[str, str]] | None:
    """(kind, target) of executions within `window` before `now`; future-dated ones count too."""
    if state.recent_actions is None:
        return None
    return [(a.kind, a.target) for a in state.recent_actions if a.at > now - window]


def _per_target_rate(request: ActionRequest, limits: Limits, state: TargetState, now: datetime) -> RuleMatch:
    rule, rate = "limits.per_target", limits.per_target
    recent = _recent(state, now, rate.window)
    if recent is None:
        return _deny(rule, "target state lacks recent_actions, needed for the per-target rate limit")
    count = sum(1 for _, target in recent if target == request.target)
    if count >= rate.max_actions:
        return _deny(
            rule, f"{count} actions on {request.target} within {rate.window} (max {rate.max_actions})"
        )
    return RuleMatch(
        rule=rule, effect="allow", why=f"{count} of {rate.max_actions} actions within {rate.window}"
    )


def _scale_bounds(request: ActionRequest, limits: Limits, state: TargetState) -> RuleMatch:
    rule, bounds = "limits.scale", limits.scale
    wanted = request.params.get("replicas")
    if not isinstance(wanted, int) or isinstance(wanted, bool):
        return _deny(rule, "scale without an integer replicas parameter")
    if state.replicas is None:
        return _deny(rule, "target state lacks the current replicas, needed to bound the scale")
    current = state.replicas
    if not bounds.min_replicas <= wanted <= bounds.max_replicas:
        return _deny(rule, f"{wanted} replicas is outside [{bounds.min_replicas}, {bounds.max_replicas}]")
    if wanted > current * bounds.max_factor_up:
        return _deny(rule, f"{current} → {wanted} replicas is more than ×{bounds.max_factor_up:g}")
    if wanted * bounds.max_factor_down < current:
        return _deny(rule, f"{current} → {wanted} replicas is more than ÷{bounds.max_factor_down:g}")
    return RuleMatch(rule=rule, effect="allow", why=f"{current} → {wanted} replicas is within bounds")


def _pod_budget(request: ActionRequest, limits: Limits, state: TargetState, now: datetime) -> RuleMatch:
    rule, budget = "limits.delete_pod", limits.delete_pod
    recent = _recent(state, now, timedelta(hours=1))
    if recent is None:
        return _deny(rule, "target state lacks recent_actions, needed for the pods-per-hour budget")
    namespace = request.target.split("/", 1)[0]
    count = sum(1 for kind, target in recent if kind == "delete_pod" and target.startswith(f"{namespace}/"))
    if count >= budget.max_per_hour:
        return _deny(
            rule, f"{count} pods deleted in {namespace} within the last hour (max {budget.max_per_hour})"
        )
    return RuleMatch(rule=rule, effect="allow", why=f"1 pod; {count} of {budget.max_per_hour} this hour")


def _cordon_bounds(limits: Limits, state: TargetState) -> RuleMatch:
    rule, bounds = "limits.cordon", limits.cordon
    if state.schedulable_nodes is None or state.cordoned_nodes is None:
        return _deny(rule, "target state lacks schedulable_nodes or cordoned_nodes, needed to bound cordons")
    if state.node_schedulable is False:
        return RuleMatch(rule=rule, effect="allow", why="the node is already cordoned (no change)")
    # An unknown node_schedulable is taken as schedulable: the assumption that removes capacity.
    left = state.schedulable_nodes - 1
    if left < bounds.min_schedulable_nodes:
        return _deny(rule, f"would leave {left} schedulable nodes (min {bounds.min_schedulable_nodes})")
    if state.cordoned_nodes + 1 > bounds.max_cordoned_nodes:
        return _deny(
            rule, f"would make {state.cordoned_nodes + 1} cordoned nodes (max {bounds.max_cordoned_nodes})"
        )
    return RuleMatch(rule=rule, effect="allow", why=f"{left} schedulable nodes would remain")


def _freezes(
    request: ActionRequest,
    policy: Policy,
    now: datetime,
    matched: list[RuleMatch],
    requirements: list[tuple[str, ApprovalRequirement]],
    effect: Effect,
) -> Effect:
    namespace = request.target.split("/", 1)[0] if not request.target.startswith("node/") else None
    for freeze in policy.freezes:
        if freeze.applies_to(request.kind, namespace) and freeze.active_at(now):
            why = f"change freeze {freeze.name} is in effect"
            matched.append(RuleMatch(rule=f"freezes/{freeze.name}", effect=freeze.effect, why=why))
            effect = tighten(effect, freeze.effect)
            if freeze.approval is not None:
                requirements.append((f"freezes/{freeze.name}", freeze.approval))
    return effect
