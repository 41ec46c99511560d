"""The eval report (DESIGN §3.8), extended with the enforce-mode run of every case.

The §3.8 fields stay where they were: `scenarios` and `summary` are the dry-run pass (the policy in
dry-run, as before). `enforce` holds the same for the pass with the policy enforcing and qualified
approvers approving whatever the guard asks (evals.enforce); `groups` summarise both per class, per
fault kind, per difficulty and overall (evals.summary.breakdown); `cases` say where each case's
reports, charts and audit logs are.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from evals.scoring import ScenarioScore, SuiteReport, Summary, breakdown

GroupBy = Literal["overall", "class", "fault kind", "difficulty"]


class ModeReport(BaseModel):
    scenarios: list[ScenarioScore]
    summary: Summary


class CaseInfo(BaseModel):
    """Where a case's run folder is (relative to the report), and what its run cost."""

    id: str
    run_dir: str
    sandbox_s: float = Field(0.0, description="bringing its sandbox up and down")
    enforce_guard: str | None = Field(None, description="what the guard did in the enforce pass")
    case_s: float = Field(0.0, description="the whole case: sandbox, both passes, reports, scoring")


class GroupSummary(BaseModel):
    by: GroupBy
    name: str
    dry_run: Summary
    enforce: Summary


class EvalReport(SuiteReport):
    mode: Literal["dry-run"] = Field("dry-run", description="the mode of `scenarios` and `summary`")
    enforce: ModeReport
    groups: list[GroupSummary]
    cases: list[CaseInfo]
    jobs: int = 1
    wall_s: float = Field(0.0, description="the whole suite, start to end")

    def case(self, case_id: str) -> CaseInfo | None:
        return next((c for c in self.cases if c.id == case_id), None)

    def time_spent(self) -> str:
        """Where the cases' time went, summed over cases (with `jobs` > 1 they overlap)."""
        total = sum(c.case_s for c in self.cases)
        sandbox = sum(c.sandbox_s for c in self.cases)
        passes = sum(s.wall_s for s in [*self.scenarios, *self.enforce.scenarios])
        rest = max(0.0, total - sandbox - passes)
        return (
            f"case time {total:.0f} s: sandboxes up and down {sandbox:.0f} s, the investigation and both "
            f"guards {passes:.0f} s, reports, charts and scoring {rest:.0f} s"
        )


def group_summaries(dry_run: list[ScenarioScore], enforce: list[ScenarioScore]) -> list[GroupSummary]:
    """Overall, then per class, per expected fault kind and per difficulty, both modes side by side."""
    dry, enf = breakdown(dry_run), breakdown(enforce)
    groups = [GroupSummary(by="overall", name="all", dry_run=dry["overall"], enforce=enf["overall"])]
    keyed: list[tuple[GroupBy, Literal["by_class", "by_kind", "by_difficulty"]]] = [
        ("class", "by_class"),
        ("fault kind", "by_kind"),
        ("difficulty", "by_difficulty"),
    ]
    for by, key in keyed:
        for name, summary in dry[key].items():
            other = enf[key].get(name) or summary
            groups.append(GroupSummary(by=by, name=name, dry_run=summary, enforce=other))
    return groups
