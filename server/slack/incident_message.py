"""An incident's parent message, drawn from the durable incident alone: state, diagnosis and confidence,
evidence, what was ruled out, the chart, the proposed action with its diff, kubectl equivalent and
policy decision, who approved or refused, the execution and its verification, and the buttons.

The Approve/Refuse buttons carry the incident and the exact action id they were drawn for, so a press
on an old message names an old action and is refused as stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pydantic import ValidationError

from agent.report import GuardOutcome, Report
from policies.approvals import Approval
from server.slack import blocks as bk
from server.slack import limits
from server.store.models import IncidentRecord, TimelineEntry

APPROVE, REFUSE = "medic_approve", "medic_refuse"
ICONS = {
    "queued": "⏳",
    "investigating": "🔎",
    "awaiting_approval": "✋",
    "finished": "✅",
    "resolved": "🟢",
    "failed": "❌",
}
EVIDENCE_CHARS = 280  # per item: enough for the numbers, not the whole log line


@dataclass
class IncidentView:
    """Everything the parent message shows; read from the store just before drawing."""

    record: IncidentRecord
    timeline: list[TimelineEntry]
    answers: list[Approval] = field(default_factory=list)  # recorded for the action waiting
    chart_in_thread: bool = False
    chart_on_this_disk: bool = False  # the PNG is here to upload (another replica may have drawn it)
    note: str | None = None  # a transient line, e.g. an approval being recorded


def button_value(incident_id: str, action_id: str) -> str:
    return json.dumps({"incident": incident_id, "action": action_id}, separators=(",", ":"))


def parent_message(view: IncidentView) -> tuple[list[bk.Block], str]:
    """The blocks and the notification text."""
    record = view.record
    report = _report(record)
    out: list[bk.Block] = [bk.header(f"{ICONS.get(record.state, '')} {record.title}")]
    status = f"*State:* {_progress(record, view.timeline)}"
    if report is not None and report.symptom:
        status += f"\n*Symptom:* {bk.escape(report.symptom)}"
    if view.note:
        status += f"\n{view.note}"
    out.append(bk.section(status))
    out += _diagnosis(report, view.timeline)
    if report is not None:
        out += _chart(report, view)
        out += _proposal(record, report)
    out += _approval(record, report, view.answers)
    if record.state == "awaiting_approval" and record.pending and record.pending.get("action_id"):
        out.append(_buttons(record, str(record.pending["action_id"])))
    out.append(
        bk.context(
            f"incident `{bk.escape(record.id)}` · opened by {bk.people(record.opened_by)} from "
            f"{'an alert' if record.source == 'alert' else 'a question'}"
        )
    )
    text = f"{record.title}: {record.state.replace('_', ' ')}"
    if report is not None:
        text += f": {report.verdict}"
    return bk.fit(out), limits.fallback_text(text)


def _report(record: IncidentRecord) -> Report | None:
    if not record.report:
        return None
    try:
        return Report.model_validate(record.report)
    except ValidationError:  # a report of another version: the state line still tells the story
        return None


def _progress(record: IncidentRecord, timeline: list[TimelineEntry]) -> str:
    tools = [e for e in timeline if e.kind == "tool"]
    if record.state == "queued":
        return "queued for investigation"
    if record.state == "investigating":
        last = tools[-1].data if tools else {}
        step = f"; last: {bk.escape(str(last.get('tool')))} ({last.get('status')})" if tools else ""
        return f"investigating: {len(tools)} tool calls{step}"
    if record.state == "awaiting_approval":
        return f"waiting for an approver ({len(tools)} tool calls)"
    if record.state == "failed":
        errors = [e.text for e in timeline if e.kind == "error"]
        return "failed: " + bk.escape(bk.cut(errors[-1] if errors else "see the timeline", 500))
    if record.state == "resolved":
        return "resolved: every alert of its group resolved"
    return f"investigated ({len(tools)} tool calls)"


def _diagnosis(report: Report | None, timeline: list[TimelineEntry]) -> list[bk.Block]:
    if report is None:
        found = [e.text for e in timeline if e.kind == "diagnosis"]
        return [bk.section(f"*Diagnosis:* {bk.escape(found[-1])}")] if found else []
    out: list[bk.Block] = []
    text = f"*Diagnosis:* {bk.escape(report.verdict)}"
    top = report.top
    if top is not None:
        text += f"\n{bk.escape(top.summary)}"
    diagnosis = report.diagnosis
    for missing in diagnosis.missing if diagnosis else []:
        text += f"\n⚠️ missing evidence: {bk.escape(missing.line())}"
    out.append(bk.section(text))
    cited = [e for e in report.evidence if e.id in report.cited]
    if cited:
        items = [f"`{bk.escape(e.source)}` {bk.escape(bk.cut(e.description, EVIDENCE_CHARS))}" for e in cited]
        out.append(bk.section("*Evidence*\n" + bk.bullets(items, limits.SECTION_TEXT - 20)))
    ruled_out = [r for h in (diagnosis.hypotheses if diagnosis else []) for r in h.ruled_out]
    others = [h for h in (diagnosis.hypotheses[1:] if diagnosis else [])]
    items = [bk.escape(r) for r in ruled_out]
    items += [bk.escape(f"{h.entity}: {h.kind_text} (confidence {h.confidence:.2f})") for h in others]
    if items:
        out.append(
            bk.section("*Ruled out and also considered*\n" + bk.bullets(items, limits.SECTION_TEXT - 40))
        )
    return out


def _chart(report: Report, view: IncidentView) -> list[bk.Block]:
    chart = report.chart
    if chart.path is None:
        return [bk.context(f"📈 no chart: {bk.escape(chart.note or 'no signal to draw')}")]
    if view.chart_in_thread:
        where = "in the thread"
    elif view.chart_on_this_disk:
        where = "being uploaded to the thread"
    else:
        where = "in the report folder of the replica that investigated"
    return [bk.context(f"📈 signals chart {where}: {bk.escape(chart.caption())}")]


def _guard(record: IncidentRecord, report: Report | None) -> GuardOutcome | None:
    if report is not None and report.guard is not None:
        return report.guard
    pending = record.pending
    if pending is None:
        return None
    return GuardOutcome.model_validate(
        {"diff": pending.get("changes"), "kubectl": pending.get("kubectl"), "decision": None}
    )


def _proposal(record: IncidentRecord, report: Report) -> list[bk.Block]:
    proposal = report.proposal
    if proposal is None:
        return []
    action = proposal.action
    if action is None:
        why = proposal.escalation or proposal.reason or "nothing safe to do"
        return [bk.section(f"*No action proposed:* {bk.escape(why)}")]
    out = [
        bk.section(
            f"*Proposed action:* `{action.kind} {bk.escape(action.target)}` (action `{action.action_id}`)\n"
            f"{bk.escape(proposal.reason or action.reason)}"
        )
    ]
    guard = _guard(record, report)
    if guard is None:
        return out
    if guard.diff:
        out.append(bk.section("*Diff*\n" + bk.code(guard.diff, limits.SECTION_TEXT - 10)))
    if guard.kubectl:
        out.append(bk.section("*kubectl equivalent*\n" + bk.code(guard.kubectl, limits.SECTION_TEXT - 30)))
    if guard.decision:
        rules = bk.bullets([bk.escape(r) for r in guard.matched_rules], limits.SECTION_TEXT - 300, empty="")
        out.append(bk.section(f"*Policy decision:* {bk.escape(guard.decision)}\n{rules}".rstrip()))
    return out


def _approval(record: IncidentRecord, report: Report | None, answers: list[Approval]) -> list[bk.Block]:
    guard = report.guard if report is not None else None
    pairs: list[tuple[str, str]] = []
    if record.state == "awaiting_approval" and answers:
        said = [
            f"{'approved' if a.verdict == 'approve' else 'refused'} by {bk.people(a.approver)}"
            for a in answers
        ]
        pairs.append(("Answers", "; ".join(said) + " (recorded; the guard checks them)"))
    elif guard is not None and guard.approval:
        pairs.append(("Approval", bk.people(guard.approval)))
    if guard is not None and guard.execution:
        pairs.append(("Execution", bk.escape(guard.execution)))
    if guard is not None and guard.verification:
        pairs.append(("Verification", bk.escape(guard.verification)))
    return [bk.fields(pairs)] if pairs else []


def _buttons(record: IncidentRecord, action_id: str) -> bk.Block:
    pending = record.pending or {}
    action = pending.get("action") if isinstance(pending.get("action"), dict) else {}
    what = f"{action.get('kind')} {action.get('target')}" if isinstance(action, dict) else action_id
    kubectl = pending.get("kubectl")
    value = button_value(record.id, action_id)
    ask = bk.confirm(
        "Approve this action?",
        f"`{bk.escape(what)}`" + (f"\n`{bk.escape(str(kubectl))}`" if kubectl else ""),
        "Approve",
    )
    return bk.actions(
        [
            bk.button("Approve", APPROVE, value, style="primary", ask=ask),
            bk.button("Refuse", REFUSE, value, style="danger"),
        ],
        block_id=f"approval:{action_id}",
    )
