"""`/medic` slash commands: acknowledged at once (Slack allows 3 s), the work done after.

The acknowledgement is an ephemeral line and touches nothing but the command text: no database, no
Slack call. Then the user is resolved to their roles, and the command does what the same request to
the HTTP API would (opening an incident needs the responder role, reading one the viewer role); a
new incident's thread is posted in the channel the command came from.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from pydantic import JsonValue

from agent.incident import incident_from_question
from server.auth import RouteRole
from server.feedback import record_feedback
from server.operations import open_incident
from server.slack import blocks as bk
from server.slack.command_text import HELP, BadCommand, Command, parse
from server.slack.identity import SlackPerson
from server.slack.incident_message import ICONS
from server.slack.routing import namespace_for
from server.slack.runtime import SlackRuntime
from server.slack.web_api import SlackUnavailable
from server.store.incidents import NotFound
from server.store.models import IncidentRecord

log = logging.getLogger("medic.slack")
OPEN_STATES = ("awaiting_approval", "investigating", "queued")
NEEDS: dict[str, RouteRole] = {
    "ask": "responder",
    "triage": "responder",
    "status": "viewer",
    "list": "viewer",
    "feedback": "responder",
}
ACKS = {
    "ask": "🔎 Investigating… the incident's thread follows in this channel.",
    "triage": "🔎 Looking for that alert's incident…",
    "status": "Looking it up…",
    "list": "Looking up open incidents…",
    "feedback": "Recording your feedback…",
}


def acknowledgement(text: str) -> tuple[Command | None, str]:
    """The command and the ephemeral line to acknowledge it with (help is answered right here)."""
    try:
        command = parse(text, datetime.now(UTC))
    except BadCommand as exc:
        return None, f"{exc}\n\n{HELP}"
    return (None, HELP) if command.kind == "help" else (command, ACKS[command.kind])


async def run(rt: SlackRuntime, command: Command, body: dict[str, JsonValue]) -> None:
    """The work after the acknowledgement; its outcome goes back through the command's response_url."""
    user, channel = str(body.get("user_id")), str(body.get("channel_id"))
    response_url = str(body.get("response_url") or "")
    person = await rt.people.person(user)
    need = NEEDS[command.kind]
    if not person.principal.can(need):
        text = f"Nothing done: {person.why_not(need)}."
    else:
        try:
            text = await _do(rt, command, person, channel)
        except SlackUnavailable as exc:
            text = f"The incident is open, but its thread could not be posted here: {exc}. Invite medic to this channel, or follow it with `/medic status`."
        except NotFound as exc:
            text = f"No incident `{bk.escape(str(exc.args[0]))}`: see `/medic list`."
    try:
        await rt.web.respond(response_url, text, replace_original=True)
    except SlackUnavailable as exc:
        log.warning("/medic %s: the answer was not delivered: %s", command.kind, exc)


async def _do(rt: SlackRuntime, command: Command, person: SlackPerson, channel: str) -> str:
    if command.kind == "list":
        lines = await asyncio.to_thread(lambda: [_line(rt, r) for r in _open_incidents(rt, 15)])
        return "*Open incidents*\n" + bk.bullets(lines, 3500, empty="none")
    if command.kind == "status":
        return await _status(rt, command, channel)
    if command.kind == "feedback" and command.feedback is not None:
        line = await asyncio.to_thread(
            record_feedback, rt.svc.store, command.argument, command.feedback, by=person.principal
        )
        return f"Thanks, recorded on `{command.argument}`: {bk.escape(line)}"
    if command.kind == "triage":
        found = await asyncio.to_thread(_alert_incident, rt, command.argument)
        if found is not None:
            return await _follow(rt, found, channel, "is already open")
    return await _open(rt, command, person, channel)


async def _open(rt: SlackRuntime, command: Command, person: SlackPerson, channel: str) -> str:
    question = command.argument if command.kind == "ask" else f"triage {command.argument}"
    namespace = command.namespace or namespace_for(rt.config.channels, channel, rt.config.default_namespace)
    incident = incident_from_question(
        question,
        as_of=command.at or datetime.now(UTC),
        namespace=namespace,
        known_services=[command.argument] if command.kind == "triage" else [],
        asked_by=person.principal.subject,
    )
    record, created = await asyncio.to_thread(open_incident, rt.svc, incident, by=person.principal)
    return await _follow(rt, record, channel, "is open" if created else "was already open")


async def _follow(rt: SlackRuntime, record: IncidentRecord, channel: str, how: str) -> str:
    """Post the incident's thread here unless it has one; say where to follow it."""
    posted = await rt.refresher.post_parent(record.id, channel)
    where = posted or await asyncio.to_thread(rt.threads.of, record.id)
    place = f"<#{where.channel}>" if where is not None else "no channel yet"
    scope = (
        f" in namespace `{record.namespace}`" if record.namespace else " (no namespace: name one with `-n`)"
    )
    return f"Incident `{record.id}` {how}{scope}: follow its thread in {place}."


async def _status(rt: SlackRuntime, command: Command, channel: str) -> str:
    return await asyncio.to_thread(_status_text, rt, command.argument, channel)


def _status_text(rt: SlackRuntime, incident_id: str, channel: str) -> str:
    if not incident_id:
        latest = rt.threads.latest_in(channel)
        if latest is None:
            return "No incident has a thread in this channel: `/medic status <incident>` or `/medic list`."
        incident_id = latest.incident_id
    record = rt.svc.store.get(incident_id)
    lines = [_line(rt, record)]
    report = record.report or {}
    if isinstance(report.get("verdict"), str):
        lines.append(f"*Diagnosis:* {bk.escape(str(report['verdict']))}")
    pending = record.pending or {}
    action = pending.get("action")
    if record.state == "awaiting_approval" and isinstance(action, dict):
        lines.append(f"*Waiting for approval:* `{action.get('kind')} {bk.escape(str(action.get('target')))}`")
    return "\n".join(lines)


def _open_incidents(rt: SlackRuntime, limit: int) -> list[IncidentRecord]:
    found = [r for state in OPEN_STATES for r in rt.svc.store.page(state=state, limit=limit)]  # type: ignore[arg-type]
    return sorted(found, key=lambda r: r.created_at, reverse=True)[:limit]


def _alert_incident(rt: SlackRuntime, subject: str) -> IncidentRecord | None:
    """The newest open incident of an alert named `subject`, or about a service of that name."""
    for record in _open_incidents(rt, 200):
        incident = record.incident
        if incident.source == "alert" and (
            incident.labels.get("alertname") == subject or subject in incident.services
        ):
            return record
    return None


def _line(rt: SlackRuntime, record: IncidentRecord) -> str:
    thread = rt.threads.of(record.id)
    where = f" · <#{thread.channel}>" if thread is not None else ""
    state = record.state.replace("_", " ")
    return f"{ICONS.get(record.state, '')} *{bk.escape(bk.cut(record.title, 200))}* · {state} · `{record.id}`{where}"
