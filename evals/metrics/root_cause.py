"""Root cause: was the culprit named first (top-1), among the first three (top-3), and with its kind?

A case where nothing is wrong is answered right only by the "no fault" prediction first; at 3 it is
the same question (a list of suspects is not "nothing is wrong"). The kind is right only with the
culprit right at 1: the right kind on the wrong service explains nothing.
"""

from __future__ import annotations

from typing import Literal

from agent.report import Prediction
from evals.metrics.result import CaseFacts, Verdict
from evals.scenario import RootCause

Which = Literal["top1", "top3", "kind"]
NAMES: dict[Which, str] = {"top1": "root_cause_at_1", "top3": "root_cause_at_3", "kind": "root_cause_kind"}


def judge_root_cause(expected: RootCause, predicted: list[Prediction]) -> dict[Which, bool]:
    services = [p.service for p in predicted]
    top = predicted[0] if predicted else None
    if expected.service is None:
        nothing = top is not None and top.service is None
        return {"top1": nothing, "top3": nothing, "kind": nothing}
    at_1 = bool(services) and services[0] == expected.service
    kind = at_1 and top is not None and top.kind == expected.kind
    return {"top1": at_1, "top3": expected.service in services[:3], "kind": kind}


def root_cause_verdict(facts: CaseFacts, which: Which) -> Verdict:
    if facts.expect is None:
        raise ValueError(f"{NAMES[which]}: the case has no `expect` to judge against")
    expected = facts.expect.root_cause
    right = judge_root_cause(expected, facts.predicted)[which]
    want = "no fault" if expected.service is None else f"{expected.kind or 'a fault'} on {expected.service}"
    ranked = ", ".join(_said(p) for p in facts.predicted[:3]) or "nothing"
    return (1.0 if right else 0.0), f"expected {want}; predicted {ranked}"


def _said(p: Prediction) -> str:
    return f"{p.kind or 'unknown fault'} on {p.service}" if p.service else "no fault"
