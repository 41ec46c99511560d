"""What every Slack handler shares, built once by `server.slack.app.running_slack` when the service starts."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass, field

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler

from server.deps import Services
from server.slack.after_ack import AfterAck
from server.slack.config import SlackConfig
from server.slack.identity import SlackIdentities
from server.slack.replay import RecentlySeen
from server.slack.signing import RequestVerifier
from server.slack.thread_refresh import ThreadRefresher
from server.slack.web_api import SlackWeb
from server.store.slack_threads import SlackThreads


@dataclass
class SlackRuntime:
    config: SlackConfig
    svc: Services
    web: SlackWeb
    people: SlackIdentities
    threads: SlackThreads
    refresher: ThreadRefresher
    verifier: RequestVerifier
    handler: AsyncSlackRequestHandler | None = None  # set once the Bolt app, which needs this, is built
    seen_messages: RecentlySeen = field(default_factory=RecentlySeen)
    work: AfterAck = field(default_factory=AfterAck)  # what requests asked for, after their ack

    def spawn(self, work: Coroutine[object, object, None]) -> None:
        self.work.spawn(work)
