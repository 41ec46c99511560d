"""The incident tools: open an investigation, read one, list them, chat about one.

Each calls the API's own handler (`server.api.incidents`, `server.api.messages`) with the verified
caller, so an incident opened, read or discussed over MCP is the same operation as over HTTP, with
the same records on the timeline. The catalog checks the role first (viewer reads, responder writes).
"""

from __future__ import annotations

from datetime import UTC, datetime

import anyio.to_thread
import mcp_types as types
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, ValidationError

from agent.incident import AlertmanagerAlert
from server.api import incidents, messages
from server.auth import Principal
from server.mcp import cursor
from server.mcp.catalog import door_tool
from server.mcp.door import Door
from server.mcp.results import answer, problems, refused
from server.mcp.views import incident_lines, incident_view, report_uri, summary_row
from server.store.models import IncidentState


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Investigate(_Args):
    question: str | None = Field(
        None, min_length=3, max_length=2000, description="what to investigate, in words"
    )
    alert_labels: dict[str, str] | None = Field(
        None, description="a firing alert's labels instead of a question (alertname, namespace, service, …)"
    )
    alert_annotations: dict[str, str] = Field(default_factory=dict, description="the alert's annotations")
    namespace: str | None = Field(None, max_length=253)
    services: list[str] = Field(
        default_factory=list, max_length=50, description="services the question may name"
    )
    as_of: AwareDatetime | None = Field(
        None, description="the instant to investigate (RFC 3339); default: now"
    )


class IncidentRef(_Args):
    incident_id: str = Field(min_length=1, max_length=128)


class ListIncidents(_Args):
    state: IncidentState | None = Field(None, description="only incidents in this state")
    cursor: str | None = Field(None, description="nextCursor of the previous page")


class Ask(_Args):
    incident_id: str = Field(min_length=1, max_length=128)
    text: str = Field(min_length=1, max_length=4000, description="the question about the incident")


async def investigate(door: Door, caller: Principal, args: Investigate) -> types.CallToolResult:
    """Open an incident from a question or a firing alert's labels; medic investigates it in the
    background. Returns the incident id: poll get_incident until its state is finished or
    awaiting_approval, then read the report resource medic://incidents/{id}."""
    budget = door.context.config.summary_max_tokens
    at = args.as_of or datetime.now(UTC)
    try:
        body = incidents.OpenIncident(
            alert=AlertmanagerAlert(labels=args.alert_labels, annotations=args.alert_annotations, startsAt=at)
            if args.alert_labels is not None
            else None,
            question=args.question,
            namespace=args.namespace,
            services=args.services,
            as_of=args.as_of,
        )
    except ValidationError as exc:
        return refused(problems(exc, "investigate"), budget)
    record = await anyio.to_thread.run_sync(incidents.open_incident, body, caller, door.services)
    data = {**summary_row(record), "report": report_uri(record.id)}
    header = f"incident {record.id} is {record.state}: {record.title}"
    return answer(
        data, header, ["poll get_incident until it is finished or awaiting_approval"], max_tokens=budget
    )


async def get_incident(door: Door, caller: Principal, args: IncidentRef) -> types.CallToolResult:
    """An incident's state, verdict, best hypotheses, proposed action with the guard's decision, the
    approval it waits for, and its latest timeline. The full report is medic://incidents/{id}."""
    found = await anyio.to_thread.run_sync(incidents.get_incident, args.incident_id, caller, door.services)
    view = incident_view(found.incident, found.timeline, door.config.timeline_entries)
    header, lines = incident_lines(view)
    return answer(view, header, lines, max_tokens=door.context.config.summary_max_tokens)


async def list_incidents(door: Door, caller: Principal, args: ListIncidents) -> types.CallToolResult:
    """Incidents, newest first, one page at a time: pass nextCursor back as `cursor` for the next."""
    before = cursor.decode(args.cursor)
    if before is not None and not isinstance(before, str):
        return refused(
            "invalid cursor: pass back a nextCursor unchanged", door.context.config.summary_max_tokens
        )

    def one_page() -> incidents.IncidentPage:
        return incidents.list_incidents(
            caller, door.services, state=args.state, limit=door.config.page_size, before=before
        )

    found = await anyio.to_thread.run_sync(one_page)
    rows: list[JsonValue] = [summary_row(r) for r in found.incidents]
    next_cursor = cursor.encode(found.next) if found.next else None
    lines = [f"{r.id} [{r.state}] {r.title}" for r in found.incidents]
    lines += [f"more: call list_incidents with cursor {next_cursor}"] if next_cursor else []
    return answer(
        {"incidents": rows, "next_cursor": next_cursor},
        f"{len(rows)} incident(s)",
        lines,
        max_tokens=door.context.config.summary_max_tokens,
        unit="incidents",
    )


async def ask(door: Door, caller: Principal, args: Ask) -> types.CallToolResult:
    """Ask about an incident (status, evidence for a service, what medic would do, why not another
    cause). Answered from its evidence; the question and answer join its timeline. A message never
    approves anything or changes what the guard allows."""
    reply = await anyio.to_thread.run_sync(
        messages.post_message, args.incident_id, messages.Message(text=args.text), caller, door.services
    )
    return answer(
        reply.model_dump(mode="json"),
        reply.text,
        [],
        max_tokens=door.context.config.summary_max_tokens,
    )


# medic's own incident store: a closed world (the read tools reach Prometheus, Kubernetes, traces).
READS = types.ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
WRITES = types.ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)

INCIDENT_TOOLS = [
    door_tool(investigate, role="responder", annotations=WRITES),
    door_tool(get_incident, role="viewer", annotations=READS),
    door_tool(list_incidents, role="viewer", annotations=READS),
    door_tool(ask, role="responder", annotations=WRITES),
]
