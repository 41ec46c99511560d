"""Incidents as an MCP client reads them: the gist of the record (state, verdict, best hypotheses, the
proposal and what the guard made of it, the pending approval, the latest timeline) in bounded size.
The whole report is the resource `medic://incidents/{id}`.

Text here comes from the world (alert annotations, tool summaries, chat): it is data for the model,
cut to length, never an instruction to anyone.
"""

from __future__ import annotations

from pydantic import JsonValue

from server.store.models import IncidentRecord, TimelineEntry

TEXT_CHARS = 300
HYPOTHESES = 3


def report_uri(incident_id: str) -> str:
    return f"medic://incidents/{incident_id}"


def approval_route(incident_id: str, action_id: str) -> str:
    return f"POST /v1/incidents/{incident_id}/actions/{action_id}/approval"


def _cut(text: object, limit: int = TEXT_CHARS) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def as_dict(value: object) -> dict[str, JsonValue]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[JsonValue]:
    return value if isinstance(value, list) else []


def summary_row(record: IncidentRecord) -> dict[str, JsonValue]:
    """One incident in a list."""
    report = as_dict(record.report)
    return {
        "id": record.id,
        "title": _cut(record.title, 120),
        "state": record.state,
        "source": record.source,
        "namespace": record.namespace,
        "created_at": record.created_at.isoformat(),
        "verdict": _cut(report["verdict"], 200) if "verdict" in report else None,
    }


def pending_view(record: IncidentRecord) -> dict[str, JsonValue] | None:
    """The action the guard waits on, and how a person answers it (an MCP client cannot)."""
    pending = as_dict(record.pending)
    if not pending:
        return None
    action = as_dict(pending.get("action"))
    decision = as_dict(pending.get("decision"))
    action_id = str(pending.get("action_id"))
    return {
        "action_id": action_id,
        "kind": action.get("kind"),
        "target": action.get("target"),
        "params": action.get("params"),
        "requested_by": action.get("requested_by"),
        "decision": decision.get("outcome"),
        "changes": pending.get("changes"),
        "needs": [_cut(needs_line(n)) for n in as_list(pending.get("needs"))],
        "how_to_approve": f"an approver answers {approval_route(record.id, action_id)}, or in Slack; "
        "an MCP client cannot approve",
    }


def needs_line(status: JsonValue) -> str:
    """One approval requirement the guard listed (an ApprovalStatus as JSON), in words."""
    found = as_dict(status)
    requirement = as_dict(found.get("requirement"))
    who = [*as_list(requirement.get("roles")), *as_list(requirement.get("groups"))]
    return f"{requirement.get('min_approvers', 1)} approval(s) from {', '.join(map(str, who))} ({found.get('source')})"


def incident_view(
    record: IncidentRecord, timeline: list[TimelineEntry], entries: int
) -> dict[str, JsonValue]:
    """The incident's gist with its latest `entries` timeline entries."""
    report = as_dict(record.report)
    diagnosis = as_dict(report.get("diagnosis"))
    hypotheses: list[JsonValue] = [
        {
            "label": h.get("label"),
            "fault_kind": h.get("fault_kind"),
            "entity": h.get("entity"),
            "confidence": h.get("confidence"),
            "summary": _cut(h.get("summary", "")),
            "evidence": as_list(h.get("evidence"))[:5],
        }
        for h in map(as_dict, as_list(diagnosis.get("hypotheses"))[:HYPOTHESES])
    ]
    proposal = as_dict(report.get("proposal"))
    action = as_dict(proposal.get("action"))
    guard = as_dict(report.get("guard"))
    return {
        **summary_row(record),
        "as_of": record.incident.as_of.isoformat(),
        "opened_by": record.opened_by,
        "updated_at": record.updated_at.isoformat(),
        "hypotheses": hypotheses,
        "proposal": {
            "action_id": action.get("action_id"),
            "kind": action.get("kind"),
            "target": action.get("target"),
            "params": action.get("params"),
            "requested_by": action.get("requested_by"),
        }
        if action
        else (
            {"escalation": _cut(proposal.get("escalation") or proposal.get("reason", ""))}
            if proposal
            else None
        ),
        "guard": {
            k: guard.get(k)
            for k in ("action_id", "stage", "decision", "diff", "approval", "execution", "verification")
        }
        if guard
        else None,
        "pending": pending_view(record),
        "timeline": [
            {"seq": e.seq, "at": e.at.isoformat(), "kind": e.kind, "text": _cut(e.text)}
            for e in timeline[-entries:]
        ],
        "report": report_uri(record.id),
    }


def incident_lines(view: dict[str, JsonValue]) -> tuple[str, list[str]]:
    """The view as a header and lines for the bounded summary (most useful first)."""
    header = f"incident {view['id']} [{view['state']}]: {view['title']}"
    lines = [f"verdict: {view['verdict']}"] if view.get("verdict") else []
    for h in map(as_dict, as_list(view.get("hypotheses"))):
        lines.append(f"- {h.get('label')} {h.get('fault_kind')} on {h.get('entity')} ({h.get('confidence')})")
    guard = as_dict(view.get("guard"))
    if guard:
        lines.append(
            f"guard: {guard.get('decision')}; {guard.get('execution')}; approval: {guard.get('approval')}"
        )
    pending = as_dict(view.get("pending"))
    if pending:
        lines.append(
            f"waiting for approval: {pending.get('kind')} {pending.get('target')} ({pending.get('action_id')}); "
            f"{pending.get('how_to_approve')}"
        )
    lines.append(f"report: {view['report']}")
    lines += [
        f"[{as_dict(e).get('kind')}] {as_dict(e).get('text')}" for e in as_list(view.get("timeline"))[::-1]
    ]
    return header, lines
