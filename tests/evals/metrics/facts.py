"""Small cases for the metric tests: what was expected, what the triage said and did."""

from __future__ import annotations

from agent.report import Prediction
from evals.metrics.result import CaseFacts, ProposedAction
from evals.scenario import Expect, ExpectedAction
from tools.action_request import ActionKind

ROLLBACK = ExpectedAction(action="rollback", target="shop/deployment/payments")


def expect(
    service: str | None = "payments",
    kind: str | None = "bad_deploy",
    *,
    remediation: list[ExpectedAction] | None = None,
    tools: list[str] | None = None,
) -> Expect:
    return Expect.model_validate(
        {
            "root_cause": {"service": service, "kind": kind},
            "remediation": [r.model_dump() for r in (remediation if remediation is not None else [ROLLBACK])],
            "tools": tools or [],
        }
    )


def ranked(*said: tuple[str | None, str | None], confidence: float = 0.8) -> list[Prediction]:
    return [Prediction.model_validate({"service": s, "kind": k, "confidence": confidence}) for s, k in said]


def proposal(kind: ActionKind, target: str) -> ProposedAction:
    return ProposedAction(kind=kind, target=target)


def facts(
    expected: Expect | None,
    predicted: list[Prediction] | None = None,
    *,
    proposed: ProposedAction | None = None,
    **usage: object,
) -> CaseFacts:
    return CaseFacts.model_validate(
        {"expect": expected, "predicted": predicted or [], "proposed": proposed, **usage}
    )
