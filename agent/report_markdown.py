"""The report as Markdown, for Slack, the CLI and the eval artifacts.

Much of a report is text from the world (tool summaries, evidence descriptions, hypothesis summaries
a model wrote after reading logs). It is escaped here so that it reads as text: a log line cannot
turn into a link, an image that phones home, a fake heading or a fake "approved" table row.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from agent.diagnosis import DEGRADED_CONFIDENCE_CAP

if TYPE_CHECKING:
    from agent.report import GuardOutcome, Report

# What lets text become a link, an image, code or a table cell; emphasis is harmless and stays.
# HTML is defused with entities, which CommonMark and Slack's mrkdwn both read as text.
_MARKDOWN_ACTIVE = re.compile(r"([\\`\[\]|])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
MAX_INLINE = 400


def inline(text: str, limit: int = MAX_INLINE) -> str:
    """World text as one escaped Markdown line, cut at `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    flat = re.sub(r"[&<>]", lambda m: _ENTITIES[m.group()], flat)
    return _MARKDOWN_ACTIVE.sub(r"\\\1", flat)


def code(text: str, limit: int = MAX_INLINE) -> str:
    """A code span that no backtick inside can close early."""
    flat = " ".join(text.split())[:limit]
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def fenced(lines: list[str], lang: str = "") -> list[str]:
    """A fenced block longer than any backtick run inside it."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", *lines, fence]


def _header(report: Report) -> list[str]:
    inc = report.incident
    scope = ", ".join(inc.services) or "no service named"
    return [
        f"# medic report: {inline(inc.title, 200)}",
        "",
        "## Summary",
        "",
        f"**Verdict:** {inline(report.verdict)}",
        "",
        *_missing_evidence(report),
        *([f"**Symptom:** {inline(report.symptom)}", ""] if report.symptom else []),
        f"- Incident {code(inc.id)} ({inc.source}), as of {inc.as_of.isoformat()}",
        f"- Namespace {code(inc.namespace or '?')}; services: {inline(scope)}",
        f"- Planner {code(report.planner)}",
        *([f"- Metric profile {inline(report.metric_profile.line())}"] if report.metric_profile else []),
        *([f"- {inline(report.diagnosis.summary)}"] if report.diagnosis and report.diagnosis.summary else []),
        "",
    ]


def _missing_evidence(report: Report) -> list[str]:
    """What the diagnosis was made without, and why: right under the verdict, where it is read."""
    diagnosis = report.diagnosis
    if diagnosis is None or not diagnosis.degraded:
        return []
    head = (
        f"**Degraded:** evidence is missing, so no confidence exceeds {DEGRADED_CONFIDENCE_CAP:.2f} "
        "and nothing is CONFIRMED:"
    )
    return [head, *(f"- {inline(m.line())}" for m in diagnosis.missing), ""]


def _hypotheses(report: Report) -> list[str]:
    out = ["## Top hypotheses", ""]
    diagnosis = report.diagnosis
    if diagnosis is None or not diagnosis.hypotheses:
        return [*out, "No hypothesis was made." if diagnosis is None else "No hypothesis is supported.", ""]
    if diagnosis.healthy:
        out += ["Healthy verdict: none of these reached the bar.", ""]
    for i, h in enumerate(diagnosis.hypotheses[:5], 1):
        out.append(
            f"{i}. **{h.label}** {code(h.kind_text)} on {code(h.entity)}, confidence {h.confidence:.2f}"
        )
        out.append(f"   {inline(h.summary)}")
        if h.evidence:
            out.append(f"   Evidence: {', '.join(code(e) for e in h.evidence)}")
    return [*out, ""]


def _evidence(report: Report) -> list[str]:
    out = ["## Evidence cited", ""]
    cited = [e for e in report.evidence if e.id in report.cited]
    if not cited:
        return [*out, "No evidence is cited.", ""]
    for ev in cited:
        out.append(f"- {code(ev.id)} ({inline(ev.source, 40)}): {inline(ev.description)}")
        if ev.query:
            out.append(f"  query: {code(ev.query, 600)}")
    more = len(report.evidence) - len(cited)
    noun = "observation was" if more == 1 else "observations were"
    return [*out, *(["", f"{more} more {noun} not cited."] if more else []), ""]


def _ruled_out(report: Report) -> list[str]:
    diagnosis = report.diagnosis
    items = [r for h in (diagnosis.hypotheses if diagnosis else []) for r in h.ruled_out]
    items += [f"checked: {c}" for c in (diagnosis.checked if diagnosis else [])]
    items += [f"dropped: {d}" for d in (diagnosis.dropped if diagnosis else [])]
    lines = [f"- {inline(item)}" for item in dict.fromkeys(items)]
    return ["## Ruled out", "", *(lines or ["Nothing was ruled out."]), ""]


def _similar(report: Report) -> list[str]:
    """Past incidents like this one, and what today's evidence made of them; nothing when none."""
    recalled = report.diagnosis.recalled if report.diagnosis else []
    if not report.similar and not recalled:
        return []
    out = ["## Similar past incidents", "", "Hypotheses checked against today's evidence, not answers.", ""]
    out += [f"- {inline(line)}" for line in recalled]
    for past in report.similar:
        cite = f" ({code(past.evidence)})" if past.evidence else ""
        out.append(f"- similarity {past.similarity:.2f}: {inline(past.line)}{cite}")
    return [*out, ""]


def _timeline(report: Report) -> list[str]:
    out = ["## Timeline", ""]
    if not report.timeline:
        return [*out, "No tool was called.", ""]
    out += ["| # | tool | status | elapsed | result |", "|---|---|---|---|---|"]
    day = report.incident.as_of.date().isoformat()
    for i, t in enumerate(report.timeline, 1):
        status = t.status + (" (retryable)" if t.retryable else "") + (" (truncated)" if t.truncated else "")
        result = t.summary.rstrip(":") + (": " + " · ".join(t.details) if t.details else "")
        out.append(
            f"| {i} | {code(t.tool, 80)} | {status} | {t.elapsed_s:.2f} s | {inline(_clock(result, day))} |"
        )
    return [*out, ""]


# An ISO instant in UTC: on the investigation's own day, its time of day says all a reader needs.
_UTC_INSTANT = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(?:Z|[+-]00:?00)?(?![\d+-]|:\d)"
)


def _clock(text: str, day: str) -> str:
    """`text` with the UTC timestamps of `day` shortened to their time of day."""
    return _UTC_INSTANT.sub(lambda m: m.group(2) if m.group(1) == day else m.group(0), text)


def _guard(guard: GuardOutcome) -> list[str]:
    out = [f"- Decision: **{inline(guard.decision or 'not evaluated', 80)}**"]
    out += [f"  - {inline(rule)}" for rule in guard.matched_rules]
    if guard.diff:
        out += ["", "Diff:", "", *fenced(guard.diff, "diff")]
    if guard.kubectl:
        out += ["", "kubectl equivalent:", "", *fenced(guard.kubectl, "sh")]
    out.append("")
    for label, value in (
        ("Approval", guard.approval),
        ("Execution", guard.execution),
        ("Verification", guard.verification),
    ):
        out.append(f"- {label}: {inline(value) if value else 'not reached'}")
    return out


def _proposal(report: Report) -> list[str]:
    out = ["## Proposed action", ""]
    proposal = report.proposal
    if proposal is None:
        return [*out, "No proposal was made.", ""]
    if proposal.action is not None:
        a = proposal.action
        params = ", ".join(f"{k}={v}" for k, v in a.params.items()) or "no params"
        out += [
            f"- Action: {code(a.kind)} on {code(a.target)} ({inline(params)})",
            f"- Action id: {code(a.action_id)}",
        ]
    elif proposal.escalation is not None:
        out.append(f"- No automated action. {inline(proposal.escalation)}")
    else:
        out.append("- No action proposed.")
    if proposal.runbook_entry:
        out.append(f"- Runbook entry: {code(proposal.runbook_entry)}")
    if proposal.reason:
        out.append(f"- Why: {inline(proposal.reason)}")
    if report.guard is not None:
        out += ["", "### Guard", "", *_guard(report.guard)]
    return [*out, ""]


def _chart(report: Report, relative_to: Path | None) -> list[str]:
    chart = report.chart
    out = ["## Signals", ""]
    if chart.path is None:
        return [*out, inline(chart.note or "No chart."), ""]
    link = os.path.relpath(chart.path, relative_to) if relative_to else chart.path
    subject = inline(chart.entity or chart.service or "signals")
    out.append(f"![{subject} around the onset]({link.replace(' ', '%20')})")
    if chart.panels:
        out += ["", inline(chart.caption())]
    if chart.onset is not None:
        how = "estimated from the signals" if chart.onset_estimated else "given"
        out += ["", f"Onset {chart.onset.isoformat()} ({how})."]
    if chart.note:
        out += ["", inline(chart.note)]
    return [*out, ""]


def _budgets(report: Report) -> list[str]:
    u, b = report.usage, report.budget
    rows = [
        ("planning steps", f"{u.steps}", b and f"{b.max_steps}"),
        ("tool calls", f"{u.tool_calls}", b and f"{b.max_tool_calls}"),
        ("LLM tokens", f"{u.llm_tokens}", b and f"{b.max_llm_tokens}"),
        ("wall time", f"{u.wall_s:.1f} s", b and f"{b.max_wall_s:.0f} s"),
    ]
    out = ["## Budgets", "", "| | used | limit |", "|---|---|---|"]
    out += [f"| {name} | {used} | {limit or '?'} |" for name, used, limit in rows]
    out.append("")
    out.append(
        "Budgets hit: " + "; ".join(inline(e) for e in u.exhausted) if u.exhausted else "No budget was hit."
    )
    return [*out, ""]


def render_markdown(report: Report, *, relative_to: Path | None = None) -> str:
    """The whole report; `relative_to` makes the chart link relative to where the Markdown is written."""
    sections = [
        _header(report),
        _hypotheses(report),
        _evidence(report),
        _ruled_out(report),
        _similar(report),
        _timeline(report),
        _proposal(report),
        _chart(report, relative_to),
        _budgets(report),
    ]
    return "\n".join(line for section in sections for line in section).rstrip() + "\n"
