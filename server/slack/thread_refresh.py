"""Keeping each incident's Slack thread a faithful view: post the parent message once, redraw it in
place (chat.update) whenever the incident changes, upload the chart into the thread once.

The loop reads only the incident store, so it shows the same thing whichever replica investigated,
and a redraw that Slack did not take is retried on the next pass. Alertmanager incidents get their
thread here too, in the channel their namespace or severity routes to.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.deps import Services
from server.slack.blocks import Block
from server.slack.config import SlackConfig
from server.slack.incident_message import IncidentView, parent_message
from server.slack.routing import channel_for
from server.slack.web_api import SlackUnavailable, SlackWeb
from server.store.models import IncidentRecord
from server.store.slack_threads import SlackThread, SlackThreads

log = logging.getLogger("medic.slack")


def digest(blocks: list[Block]) -> str:
    return hashlib.sha256(json.dumps(blocks, sort_keys=True).encode()).hexdigest()


class ThreadRefresher:
    def __init__(self, svc: Services, threads: SlackThreads, web: SlackWeb, config: SlackConfig) -> None:
        self.svc, self.threads, self.web, self.config = svc, threads, web, config

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh until `stop` is set; a failed pass is logged and the next one tries again."""
        while not stop.is_set():
            try:
                await self.once()
            except Exception:  # the loop must outlive a database or Slack hiccup
                log.exception("refreshing Slack threads failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.sync_interval_s)

    async def once(self) -> None:
        await self._post_routed_alerts()
        for thread, record in await asyncio.to_thread(self.threads.due):
            await self._refresh(thread, record)

    async def view(self, incident_id: str, note: str | None = None) -> IncidentView:
        def read() -> IncidentView:
            record = self.svc.store.get(incident_id)
            thread = self.threads.of(incident_id)
            pending = record.pending or {}
            answers = (
                self.svc.store.approvals_for(incident_id, str(pending["action_id"]))
                if record.state == "awaiting_approval" and pending.get("action_id")
                else []
            )
            return IncidentView(
                record=record,
                timeline=self.svc.store.timeline(incident_id),
                answers=answers,
                chart_in_thread=thread is not None and thread.chart_file is not None,
                chart_on_this_disk=_chart_path(record) is not None,
                note=note,
            )

        return await asyncio.to_thread(read)

    async def post_parent(self, incident_id: str, channel: str) -> SlackThread | None:
        """Post the incident's parent message in `channel`; the thread, or None when it already has one
        (then `self.threads.of` says where). Raises SlackUnavailable when Slack did not take it."""
        if not await asyncio.to_thread(self.threads.claim, incident_id, channel):
            return None
        try:
            view = await self.view(incident_id)
            blocks, text = parent_message(view)
            ts = await self.web.post(channel, blocks, text)
        except BaseException:
            await asyncio.to_thread(self.threads.release, incident_id)
            raise
        shown = digest(blocks)
        synced_at = view.record.updated_at
        await asyncio.to_thread(self.threads.posted, incident_id, ts, shown, synced_at)
        return SlackThread(incident_id=incident_id, channel=channel, ts=ts, synced_at=synced_at, shown=shown)

    async def redraw(self, thread: SlackThread, note: str | None = None) -> None:
        """Draw the parent message now (raises SlackUnavailable when Slack did not take it)."""
        if thread.ts is None:
            raise SlackUnavailable("the thread's parent message is not posted yet")
        blocks, text = parent_message(await self.view(thread.incident_id, note))
        await self.web.update(thread.channel, thread.ts, blocks, text)
        await asyncio.to_thread(self.threads.shown_now, thread.incident_id, digest(blocks))

    async def _refresh(self, thread: SlackThread, record: IncidentRecord) -> None:
        if not await asyncio.to_thread(self.threads.take, thread, record.updated_at):
            return  # another replica drew this change
        try:
            blocks, text = parent_message(await self.view(thread.incident_id))
            shown = digest(blocks)
            if shown != thread.shown and thread.ts is not None:
                await self.web.update(thread.channel, thread.ts, blocks, text)
                await asyncio.to_thread(self.threads.shown_now, thread.incident_id, shown)
        except SlackUnavailable as exc:
            log.warning("incident %s: thread not redrawn: %s", thread.incident_id, exc)
            await asyncio.to_thread(self.threads.give_back, thread)
            return
        await self._upload_chart(thread, record)

    async def _upload_chart(self, thread: SlackThread, record: IncidentRecord) -> None:
        path = _chart_path(record)
        if thread.chart_file is not None or thread.ts is None or path is None:
            return
        try:
            file_id = await self.web.upload_chart(
                thread.channel, thread.ts, path, f"Signals of incident {record.id}"
            )
            await asyncio.to_thread(self.threads.chart_uploaded, record.id, file_id or "uploaded")
            await self.redraw(thread)  # "in the thread" now
        except SlackUnavailable as exc:
            log.warning("incident %s: chart not shown: %s", record.id, exc)

    async def _post_routed_alerts(self) -> None:
        if not self.config.channels:
            return
        since = datetime.now(UTC) - timedelta(seconds=self.config.post_alerts_within_s)
        for record in await asyncio.to_thread(self.threads.unposted_alerts, since):
            channel = channel_for(self.config.channels, record.incident)
            if channel is None:
                await asyncio.to_thread(self.threads.no_route, record.id)
                continue
            try:
                await self.post_parent(record.id, channel)
            except SlackUnavailable as exc:
                log.warning("incident %s: no thread in %s yet: %s", record.id, channel, exc)


def _chart_path(record: IncidentRecord) -> Path | None:
    """The report's chart, when it is on this replica's disk (another replica may have drawn it)."""
    chart = (record.report or {}).get("chart")
    path = chart.get("path") if isinstance(chart, dict) else None
    return Path(path) if isinstance(path, str) and Path(path).is_file() else None
