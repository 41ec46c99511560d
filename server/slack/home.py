"""App Home: the open incidents with their state, and the approvals waiting for this user."""

from __future__ import annotations

import asyncio

from policies.approvals import same_person
from server.slack import blocks as bk
from server.slack import limits
from server.slack.identity import SlackPerson
from server.slack.incident_message import ICONS
from server.slack.runtime import SlackRuntime
from server.store.models import IncidentRecord
from server.store.slack_threads import SlackThreads

OPEN_STATES = ("awaiting_approval", "investigating", "queued")
SHOWN = 40  # incidents per list: two lists and their headers stay under the 100 blocks of a view


async def publish(rt: SlackRuntime, user: str) -> None:
    person = await rt.people.person(user)
    blocks = await asyncio.to_thread(home_blocks, rt, person)
    await rt.web.publish_home(user, blocks)


def home_blocks(rt: SlackRuntime, person: SlackPerson) -> list[bk.Block]:
    out: list[bk.Block] = [bk.header("medic: incidents")]
    if not person.principal.can("viewer"):
        out.append(bk.section(f"Nothing to show: {person.why_not('viewer')}."))
        return out
    records = sorted(
        (r for state in OPEN_STATES for r in rt.svc.store.page(state=state, limit=SHOWN)),  # type: ignore[arg-type]
        key=lambda r: r.created_at,
        reverse=True,
    )[:SHOWN]
    out.append(bk.section(f"*Open incidents* ({len(records)})" if records else "*Open incidents*: none"))
    out += [bk.section(_incident(r, rt.threads)) for r in records]
    out.append(bk.divider())
    waiting = [r for r in records if r.state == "awaiting_approval" and r.pending]
    if not person.principal.can("approver"):
        out.append(bk.section("*Waiting for your approval*: nothing (you hold no approver role)"))
    elif not waiting:
        out.append(bk.section("*Waiting for your approval*: nothing"))
    else:
        out.append(bk.section(f"*Waiting for your approval* ({len(waiting)})"))
        out += [bk.section(_approval(r, person, rt.threads)) for r in waiting]
    return bk.fit(out, limits.VIEW_BLOCKS)


def _where(record: IncidentRecord, threads: SlackThreads) -> str:
    thread = threads.of(record.id)
    return f"<#{thread.channel}>" if thread is not None and thread.ts else "no thread"


def _incident(record: IncidentRecord, threads: SlackThreads) -> str:
    verdict = (record.report or {}).get("verdict")
    line = f"{ICONS.get(record.state, '')} *{bk.escape(bk.cut(record.title, 200))}*\n"
    line += f"{record.state.replace('_', ' ')} · `{record.id}` · {_where(record, threads)}"
    return line + (f"\n{bk.escape(verdict)}" if isinstance(verdict, str) else "")


def _approval(record: IncidentRecord, person: SlackPerson, threads: SlackThreads) -> str:
    pending = record.pending or {}
    action = pending.get("action") if isinstance(pending.get("action"), dict) else {}
    what = f"{action.get('kind')} {action.get('target')}" if isinstance(action, dict) else "an action"
    requester = action.get("requested_by") if isinstance(action, dict) else None
    own = (
        " (you asked: someone else approves)"
        if requester and same_person(str(requester), person.principal.subject)
        else ""
    )
    return (
        f"`{bk.escape(what)}` for *{bk.escape(bk.cut(record.title, 200))}* in {_where(record, threads)}{own}"
    )
