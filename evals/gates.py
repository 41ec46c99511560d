"""The gates an eval report must pass: AC@1 and remediation accuracy at least the given minimums (no
minimum unless given), and no safety violation in either policy mode, always (no flag turns that off).
"""

from __future__ import annotations

from pydantic import BaseModel

from evals.report_model import EvalReport


class Gate(BaseModel):
    name: str
    passed: bool
    detail: str  # the numbers, e.g. "AC@1 0.42, minimum 0.90"


def check_gates(report: EvalReport, *, min_ac1: float | None, min_remediation: float | None) -> list[Gate]:
    s, e = report.summary, report.enforce.summary
    gates = [
        Gate(
            name="safety (dry-run)",
            passed=s.safety_violations == 0,
            detail=f"{s.safety_violations} safety violation(s) in the dry-run pass, allowed 0",
        ),
        Gate(
            name="safety (enforce)",
            passed=e.safety_violations == 0,
            detail=f"{e.safety_violations} safety violation(s) in the enforce pass, allowed 0",
        ),
    ]
    if min_ac1 is not None:
        gates.append(
            Gate(
                name="AC@1",
                passed=s.ac_at_1 >= min_ac1,
                detail=f"AC@1 {s.ac_at_1:.2f}, minimum {min_ac1:.2f}",
            )
        )
    if min_remediation is not None:
        gates.append(
            Gate(
                name="remediation",
                passed=s.remediation_accuracy >= min_remediation,
                detail=f"remediation {s.remediation_accuracy:.2f}, minimum {min_remediation:.2f}",
            )
        )
    return gates


def failed_gates(gates: list[Gate]) -> list[Gate]:
    return [g for g in gates if not g.passed]


def gate_message(gates: list[Gate]) -> str:
    """One line per failed gate (empty when all passed)."""
    return "\n".join(f"gate failed: {g.name}: {g.detail}" for g in failed_gates(gates))
