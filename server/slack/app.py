"""The Slack app: a Bolt `AsyncApp` behind medic's own signature check, started with `medic serve`.

No call to Slack is made at start: the workspace's bot token comes from settings through
`authorize=` (not Bolt's auth.test), and every Web API call goes to `MEDIC_SLACK_API_URL`. Listeners
acknowledge first and hand the work to a task (`SlackRuntime.spawn`), so the answer to Slack
never waits for the database or for Slack itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator

import aiohttp
from pydantic import JsonValue
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from server.deps import Services
from server.slack import approvals, commands, home, thread_replies
from server.slack.config import SlackConfig
from server.slack.identity import SlackIdentities
from server.slack.incident_message import APPROVE, REFUSE
from server.slack.runtime import SlackRuntime
from server.slack.signing import RequestVerifier
from server.slack.thread_refresh import ThreadRefresher
from server.slack.web_api import SlackWeb
from server.store.slack_threads import SlackThreads

log = logging.getLogger("medic.slack")
Body = dict[str, JsonValue]


def build_bolt(rt: SlackRuntime) -> AsyncApp:
    config = rt.config

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult | None:
        if config.team_id is not None and team_id != config.team_id:
            return None  # another workspace: Bolt refuses the request
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=config.bot_token.get_secret_value(),
            bot_user_id=config.bot_user_id,
        )

    bolt = AsyncApp(
        signing_secret=config.signing_secret.get_secret_value(),  # Bolt checks it again: defence in depth
        authorize=authorize,  # type: ignore[arg-type]  # Bolt refuses the request when it returns None
        # a client without a token: with one, Bolt would call auth.test on the first request
        client=AsyncWebClient(
            base_url=config.api_url, timeout=rt.web.client.timeout, session=rt.web.client.session
        ),
        logger=log,
        # Listeners answer inline (no polling for ack) and hand their work to `rt.spawn`.
        process_before_response=True,
    )

    @bolt.command(re.compile(r"^/.+$"))
    async def command(ack: AsyncAck, body: Body) -> None:
        parsed, text = commands.acknowledgement(str(body.get("text") or ""))
        await ack(response_type="ephemeral", text=text)
        if parsed is not None:
            rt.spawn(commands.run(rt, parsed, body))

    @bolt.action(APPROVE)
    async def approve(ack: AsyncAck, body: Body) -> None:
        await ack()
        rt.spawn(approvals.on_press(rt, body, "approve"))

    @bolt.action(REFUSE)
    async def refuse(ack: AsyncAck, body: Body) -> None:
        await ack()
        rt.spawn(approvals.on_press(rt, body, "reject"))

    @bolt.event("message")  # events are acknowledged by Bolt once the listener returns
    async def message(event: Body) -> None:
        rt.spawn(thread_replies.on_message(rt, event))

    @bolt.event("app_home_opened")
    async def home_opened(event: Body) -> None:
        if event.get("tab", "home") == "home":
            rt.spawn(home.publish(rt, str(event.get("user"))))

    @bolt.error
    async def failed(error: Exception, body: Body) -> None:
        log.error("Slack request failed: %s: %s", type(error).__name__, error, exc_info=error)

    return bolt


@contextlib.asynccontextmanager
async def running_slack(config: SlackConfig, svc: Services, engine: Engine) -> AsyncIterator[SlackRuntime]:
    """The Slack runtime for the service's lifetime: one HTTP session, the thread refresher running."""
    session = aiohttp.ClientSession()
    client = AsyncWebClient(
        token=config.bot_token.get_secret_value(),
        base_url=config.api_url,
        timeout=int(max(1, config.timeout_s)),
        session=session,
    )
    web = SlackWeb(client)
    slack_threads = SlackThreads(engine)
    rt = SlackRuntime(
        config=config,
        svc=svc,
        web=web,
        people=SlackIdentities(config.roles, web, cache_s=config.groups_cache_s),
        threads=slack_threads,
        refresher=ThreadRefresher(svc, slack_threads, web, config),
        verifier=RequestVerifier(config.signing_secret.get_secret_value()),
    )
    rt.handler = AsyncSlackRequestHandler(build_bolt(rt))
    stop = asyncio.Event()
    refreshing = asyncio.create_task(rt.refresher.run(stop), name="medic-slack-threads")
    try:
        yield rt
    finally:
        await rt.work.drain(timeout_s=10)
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(refreshing, timeout=max(5.0, config.timeout_s + 1))
        await session.close()
