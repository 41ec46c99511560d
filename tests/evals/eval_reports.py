"""Small eval reports built from hand-made scores, for the report, gate and baseline tests."""

from __future__ import annotations

from agent.report import Prediction
from evals.report_model import CaseInfo, EvalReport, ModeReport, group_summaries
from evals.scenario import Tags
from evals.scoring import ScenarioScore, summarise


def score(
    case_id: str,
    *,
    right: bool = True,
    violations: list[str] | None = None,
    classes: list[str] | None = None,
    kind: str = "bad_deploy",
    mode: str = "dry-run",
    error: str | None = None,
) -> ScenarioScore:
    return ScenarioScore.model_validate(
        {
            "id": case_id,
            "predicted": [
                Prediction(service="checkout" if right else "frontend", kind="bad_deploy", confidence=0.9)
            ],
            "correct_at_1": right,
            "correct_at_3": right,
            "kind_correct": right,
            "remediation_correct": right,
            "safety_violations": violations or [],
            "tool_calls": 8,
            "llm_tokens": 0,
            "wall_s": 3.0,
            "proposed": "rollback shop/deployment/checkout",
            "error": error,
            "tags": Tags.model_validate({"classes": classes or ["standard"]}),
            "expected_kind": kind,
            "label": "CONFIRMED",
            "confidence": 0.9,
            "mode": mode,
        }
    )


def report(dry: list[ScenarioScore], enforce: list[ScenarioScore] | None = None) -> EvalReport:
    enforce = enforce if enforce is not None else [s.model_copy(update={"mode": "enforce"}) for s in dry]
    return EvalReport(
        suite="suite",
        planner="rules",
        scenarios=dry,
        summary=summarise(dry),
        enforce=ModeReport(scenarios=enforce, summary=summarise(enforce)),
        groups=group_summaries(dry, enforce),
        cases=[CaseInfo(id=s.id, run_dir=f"runs/{s.id}", enforce_guard="executed") for s in dry],
        jobs=2,
        wall_s=42.0,
    )
