"""Comparing an eval report with an earlier one (`medic eval --baseline FILE`): the cases that flipped
between right and wrong, the cases only one report has, and how each summary metric moved.

A case is right when its top prediction and its remediation are both correct and neither pass had a
safety violation. An earlier report from before the enforce pass existed (plain DESIGN §3.8) compares
on its dry-run fields; its enforce figures count as absent, not as zero.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError

from evals.report_model import EvalReport, ModeReport
from evals.scoring import ScenarioScore, SuiteReport

METRICS = (
    "ac_at_1",
    "ac_at_3",
    "kind_accuracy",
    "remediation_accuracy",
    "safety_violations",
    "mean_tool_calls",
    "p50_wall_s",
    "p95_wall_s",
)


class Flip(BaseModel):
    id: str
    was: str  # "right" | "wrong"
    now: str
    why: str  # what changed, e.g. "AC@1 ✓→✗"


class MetricDelta(BaseModel):
    name: str
    was: float | None
    now: float
    delta: float | None


class Comparison(BaseModel):
    baseline: str
    flips: list[Flip]
    added: list[str]
    removed: list[str]
    deltas: list[MetricDelta]


class BaselineError(ValueError):
    pass


def load_baseline(path: Path) -> SuiteReport:
    """An earlier report: this runner's, or a plain §3.8 one; BaselineError says what is wrong."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BaselineError(f"{path}: not a readable JSON report ({exc})") from None
    try:
        return EvalReport.model_validate(data) if "enforce" in data else SuiteReport.model_validate(data)
    except ValidationError as exc:
        raise BaselineError(f"{path}: not an eval report: {exc.errors()[0]['msg']}") from None


def compare(now: EvalReport, before: SuiteReport, name: str) -> Comparison:
    before_enforce = before.enforce if isinstance(before, EvalReport) else None
    old = _verdicts(before.scenarios, before_enforce)
    new = _verdicts(now.scenarios, now.enforce)
    flips = []
    for case_id, (right, marks) in new.items():
        if case_id in old and old[case_id][0] != right:
            was_marks = old[case_id][1]
            why = ", ".join(
                f"{k} {_m(was_marks[k])}→{_m(v)}" for k, v in marks.items() if was_marks.get(k) != v
            )
            flips.append(Flip(id=case_id, was=_rw(old[case_id][0]), now=_rw(right), why=why))
    deltas = [_delta(f"{m} (dry-run)", getattr(before.summary, m), getattr(now.summary, m)) for m in METRICS]
    deltas.append(
        _delta(
            "safety_violations (enforce)",
            before_enforce.summary.safety_violations if before_enforce else None,
            now.enforce.summary.safety_violations,
        )
    )
    return Comparison(
        baseline=name,
        flips=flips,
        added=sorted(new.keys() - old.keys()),
        removed=sorted(old.keys() - new.keys()),
        deltas=deltas,
    )


def render_comparison(c: Comparison) -> str:
    lines = [f"## Compared with {c.baseline}", ""]
    if c.flips:
        lines += ["| case | was | now | what changed |", "|---|---|---|---|"]
        lines += [f"| {f.id} | {f.was} | {f.now} | {f.why} |" for f in c.flips]
    else:
        lines.append("No case flipped between right and wrong.")
    if c.added or c.removed:
        lines += ["", f"New cases: {', '.join(c.added) or 'none'}; gone: {', '.join(c.removed) or 'none'}."]
    lines += ["", "| metric | was | now | change |", "|---|---|---|---|"]
    for d in c.deltas:
        was = "—" if d.was is None else f"{d.was:g}"
        change = "—" if d.delta is None else f"{d.delta:+g}"
        lines.append(f"| {d.name} | {was} | {d.now:g} | {change} |")
    return "\n".join(lines) + "\n"


def _verdicts(
    scores: list[ScenarioScore], enforce: ModeReport | None
) -> dict[str, tuple[bool, dict[str, bool]]]:
    enforced = {s.id: s for s in enforce.scenarios} if enforce else {}
    out = {}
    for s in scores:
        if not s.scored:
            continue
        e = enforced.get(s.id)
        marks = {
            "AC@1": s.correct_at_1,
            "remediation": s.remediation_correct,
            "safe": not s.safety_violations and not (e.safety_violations if e else []),
        }
        out[s.id] = (all(marks.values()), marks)
    return out


def _delta(name: str, was: float | None, now: float) -> MetricDelta:
    return MetricDelta(name=name, was=was, now=now, delta=None if was is None else round(now - was, 4))


def _m(flag: bool) -> str:
    return "✓" if flag else "✗"


def _rw(right: bool) -> str:
    return "right" if right else "wrong"
