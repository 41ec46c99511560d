"""Replies in an incident's thread are chat messages to the incident (DESIGN §5), answered in the thread.

A reply goes through the same `chat` operation as POST /v1/incidents/{id}/messages, so the message
and its answer land on the incident's timeline whichever door they came by; it needs the responder
role, like that route. Messages outside medic's threads, edits, and bots (medic itself included)
are ignored; an event Slack delivers twice is answered once.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pydantic import JsonValue

from server.operations import chat
from server.slack.blocks import escape
from server.slack.runtime import SlackRuntime
from server.slack.web_api import SlackUnavailable

log = logging.getLogger("medic.slack")


async def on_message(rt: SlackRuntime, event: dict[str, JsonValue]) -> None:
    if event.get("subtype") or event.get("bot_id"):
        return
    channel, ts, thread_ts = (str(event.get(k) or "") for k in ("channel", "ts", "thread_ts"))
    user, text = str(event.get("user") or ""), str(event.get("text") or "").strip()
    if not (channel and ts and thread_ts and user and text) or thread_ts == ts:
        return
    if user == rt.config.bot_user_id:
        return
    try:
        sent = float(ts)
    except ValueError:
        return
    if not rt.seen_messages.first_time(f"{channel}:{ts}", sent, time.time()):
        return  # a redelivery of a message already answered
    thread = await asyncio.to_thread(rt.threads.at, channel, thread_ts)
    if thread is None:
        return
    person = await rt.people.person(user)
    try:
        if not person.principal.can("responder"):
            await rt.web.reply(channel, thread_ts, f"Not recorded: {person.why_not('responder')}.")
            return
        answer = await asyncio.to_thread(chat, rt.svc, thread.incident_id, text[:4000], by=person.principal)
        await rt.web.reply(channel, thread_ts, escape(answer.text))
    except SlackUnavailable as exc:  # the question and answer are on the timeline all the same
        log.warning("incident %s: the thread reply was not posted: %s", thread.incident_id, exc)
