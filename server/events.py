"""An agent progress event as a timeline entry: its kind, one line for people, and the structured data."""

from __future__ import annotations

import json

from pydantic import JsonValue

from agent.assemble import Event
from server.store.models import EventKind


def _json(value: object) -> JsonValue:
    """The event's payload as plain JSON (anything exotic becomes its text)."""
    result: JsonValue = json.loads(json.dumps(value, default=str))
    return result


def describe(event: Event) -> tuple[EventKind, str, dict[str, JsonValue]] | None:
    kind = event.get("event")
    data = {k: _json(v) for k, v in event.items() if k != "event"}
    if kind == "plan":
        calls = event.get("calls")
        if not calls:
            return None
        return "plan", str(event.get("note") or "planning"), data
    if kind == "tool":
        args = json.dumps(event.get("args", {}), separators=(",", ":"), default=str)
        text = f"{event.get('status')} {event.get('tool')}{args} {event.get('elapsed_s')}s: {event.get('summary', '')}"
        return "tool", text, data
    if kind == "diagnosis":
        top = event.get("top")
        if isinstance(top, dict):
            text = f"{top.get('label')} {top.get('fault_kind')} on {top.get('entity')} (confidence {top.get('confidence')})"
        else:
            text = "healthy: nothing stands out" if event.get("healthy") else "inconclusive"
        return "diagnosis", text, data
    if kind == "proposal":
        action = event.get("action")
        if isinstance(action, dict):
            return "proposal", f"proposed {action.get('kind')} {action.get('target')}", data
        return "proposal", f"no action: {event.get('escalation') or event.get('reason')}", data
    if kind == "approval_needed":
        return "guard", "the guard waits for an approval", data
    if kind == "already_investigated":
        return None
    return "note", str(kind), data
