"""Remediation: is the proposed action one of the expected ones (any one will do)? When the case
expects none (nothing wrong, or nothing safe to do), proposing nothing is right and anything is wrong."""

from __future__ import annotations

from evals.metrics.result import CaseFacts, ProposedAction, Verdict
from evals.scenario import ExpectedAction

NAME = "remediation"


def remediation_right(expected: list[ExpectedAction], proposed: ProposedAction | None) -> bool:
    if proposed is None:
        return not expected
    return any(e.matches(proposed.kind, proposed.target) for e in expected)


def remediation_verdict(facts: CaseFacts) -> Verdict:
    if facts.expect is None:
        raise ValueError(f"{NAME}: the case has no `expect` to judge against")
    expected = facts.expect.remediation
    right = remediation_right(expected, facts.proposed)
    want = " or ".join(f"{e.action} {e.target}" for e in expected) or "no action"
    said = f"{facts.proposed.kind} {facts.proposed.target}" if facts.proposed else "no action"
    return (1.0 if right else 0.0), f"expected {want}; proposed {said}"
