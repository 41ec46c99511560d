"""Incidents as MCP resources: `medic://incidents/{id}` is the Markdown report (the one the worker
writes and Slack shows), `medic://incidents/{id}/chart.png` the chart of its key signals.

The report's own chart link is rewritten to the chart resource, so a client reading the report can
fetch the image without a path on medic's disk. Listing pages through incidents newest first.
"""

from __future__ import annotations

import base64
import re

import anyio.to_thread
import mcp_types as types
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from agent.report import Report
from server.mcp import cursor
from server.mcp.door import Door
from server.mcp.views import report_uri, summary_row
from server.store.incidents import NotFound
from server.store.models import IncidentRecord

_URI = re.compile(r"^medic://incidents/(?P<id>[A-Za-z0-9][A-Za-z0-9._:-]{0,127})(?P<chart>/chart\.png)?$")
CHART_FILE = "signals.png"

TEMPLATES = [
    types.ResourceTemplate(
        uri_template="medic://incidents/{id}",
        name="incident-report",
        title="Incident report",
        description="medic's report of an incident: verdict, hypotheses with evidence, proposal, guard",
        mime_type="text/markdown",
    ),
    types.ResourceTemplate(
        uri_template="medic://incidents/{id}/chart.png",
        name="incident-chart",
        title="Incident chart",
        description="the incident's key signals around its onset",
        mime_type="image/png",
    ),
]


def chart_uri(incident_id: str) -> str:
    return f"{report_uri(incident_id)}/chart.png"


def list_page(door: Door, cursor_text: str | None) -> types.ListResourcesResult:
    """One page of incident reports, newest first."""
    before = cursor.decode(cursor_text)
    if before is not None and not isinstance(before, str):
        raise MCPError(INVALID_PARAMS, "invalid cursor: pass back a nextCursor unchanged")
    size = door.config.page_size
    try:
        found = door.services.store.page(limit=size + 1, before=before)
    except NotFound:
        raise MCPError(INVALID_PARAMS, "invalid cursor: its incident is gone; list from the start") from None
    shown = found[:size]
    resources = [
        types.Resource(
            uri=report_uri(r.id),
            name=r.id,
            title=r.title[:200],
            description=f"{r.state}: {summary_row(r)['verdict'] or 'no report yet'}",
            mime_type="text/markdown",
        )
        for r in shown
    ]
    more = len(found) > size and shown
    return types.ListResourcesResult(
        resources=resources, next_cursor=cursor.encode(shown[-1].id) if more else None
    )


async def read(door: Door, uri: str) -> types.ReadResourceResult:
    match = _URI.match(uri)
    if match is None:
        raise MCPError(
            INVALID_PARAMS, f"unknown resource {uri[:200]!r}: medic serves medic://incidents/{{id}}"
        )
    incident_id = match["id"]
    try:
        record = await anyio.to_thread.run_sync(door.services.store.get, incident_id)
    except NotFound:
        raise MCPError(INVALID_PARAMS, f"no incident {incident_id!r}") from None
    if match["chart"]:
        return types.ReadResourceResult(contents=[await anyio.to_thread.run_sync(_chart, door, record)])
    text = _markdown(record)
    return types.ReadResourceResult(
        contents=[types.TextResourceContents(uri=uri, mime_type="text/markdown", text=text)]
    )


def _markdown(record: IncidentRecord) -> str:
    if not record.report:
        return f"# {record.title}\n\nIncident {record.id} is {record.state}: no report yet.\n"
    report = Report.model_validate(record.report)
    if (
        report.chart.path is not None
    ):  # the worker's file path means nothing to a client: point at the resource
        report = report.model_copy(
            update={"chart": report.chart.model_copy(update={"path": chart_uri(record.id)})}
        )
    return report.to_markdown()


def _chart(door: Door, record: IncidentRecord) -> types.BlobResourceContents:
    path = door.reports_dir / record.id / CHART_FILE
    if not path.is_file():
        why = "no chart was rendered" if record.report else f"the incident is {record.state}: no report yet"
        raise MCPError(INVALID_PARAMS, f"incident {record.id} has no chart here: {why}")
    blob = base64.b64encode(path.read_bytes()).decode()
    return types.BlobResourceContents(uri=chart_uri(record.id), mime_type="image/png", blob=blob)
