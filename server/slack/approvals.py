"""Approve / Refuse presses: an approval request from a verified Slack user, for exactly the action the
button was drawn for.

A press is recorded through the same `record_approval` as the HTTP API, after three checks: the
user holds the approver role (settings map users and user groups to roles), the button is not stale
(the same action still waits, undecided), and Slack took the message update that shows the press.
That last one comes first on purpose: if Slack cannot be reached, nothing is recorded, nothing runs,
and the approval stays pending (the timeline says a press went unconfirmed). The guard, resumed by
the worker, then checks the policy's roles and runs the action at most once, however many presses
raced to approve it.
"""

from __future__ import annotations

import asyncio
import json
import logging

from pydantic import JsonValue

from policies.approvals import Verdict
from server.operations import record_approval, waiting_action
from server.problems import Conflict
from server.slack.blocks import mention
from server.slack.runtime import SlackRuntime
from server.slack.web_api import SlackUnavailable
from server.store.incidents import NotFound

log = logging.getLogger("medic.slack")


async def on_press(rt: SlackRuntime, body: dict[str, JsonValue], verdict: Verdict) -> None:
    user = _get(body, "user", "id")
    response_url = str(body.get("response_url") or "")
    pressed = body.get("actions")
    first = pressed[0] if isinstance(pressed, list) and pressed else None
    value = first.get("value") if isinstance(first, dict) else None
    try:
        named = json.loads(str(value))
        incident_id, action_id = str(named["incident"]), str(named["action"])
    except (ValueError, KeyError, TypeError):
        await _tell(rt, response_url, "Not recorded: this button names no action medic knows.")
        return
    person = await rt.people.person(user)
    if not person.principal.can("approver"):
        await _tell(rt, response_url, f"Not recorded: {person.why_not('approver')}.")
        return
    try:
        await asyncio.to_thread(waiting_action, rt.svc, incident_id, action_id, person.principal)
    except (Conflict, NotFound) as exc:
        why = str(exc) if isinstance(exc, Conflict) else f"no incident {incident_id}"
        await _tell(rt, response_url, f"Not recorded: this button is stale ({why}).")
        await _redraw(rt, incident_id)  # the message catches up with the incident
        return
    said = "approved" if verdict == "approve" else "refused"
    thread = await asyncio.to_thread(rt.threads.of, incident_id)
    try:
        if thread is None:
            raise SlackUnavailable("the incident has no thread to show the press in")
        await rt.refresher.redraw(
            thread, note=f"⏳ {mention(user)} {said} action `{action_id}`: recording it…"
        )
    except SlackUnavailable as exc:
        text = (
            f"{person.principal.subject} {said} action {action_id} in Slack, but Slack could not show it "
            f"({exc}): nothing was recorded, the approval is still pending"
        )
        log.warning("incident %s: %s", incident_id, text)
        await asyncio.to_thread(rt.svc.store.add_event, incident_id, "note", text)
        return
    try:
        await asyncio.to_thread(
            record_approval,
            rt.svc,
            incident_id,
            action_id,
            by=person.principal,
            verdict=verdict,
            channel="slack",
        )
    except Conflict as exc:  # another press won the race to decide it
        await _tell(rt, response_url, f"Not recorded: {exc}.")
        await _redraw(rt, incident_id)


async def _tell(rt: SlackRuntime, response_url: str, text: str) -> None:
    if not response_url:
        return
    try:
        await rt.web.respond(response_url, text)
    except SlackUnavailable as exc:
        log.warning("a press was not answered: %s", exc)


async def _redraw(rt: SlackRuntime, incident_id: str) -> None:
    thread = await asyncio.to_thread(rt.threads.of, incident_id)
    if thread is None or thread.ts is None:
        return
    try:
        await rt.refresher.redraw(thread)
    except SlackUnavailable as exc:
        log.warning("incident %s: thread not redrawn: %s", incident_id, exc)


def _get(body: dict[str, JsonValue], *path: str) -> str:
    node: JsonValue = body
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return str(node or "")
