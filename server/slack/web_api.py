"""Every call medic makes to Slack's Web API leaves through `SlackWeb`, one method per thing we do.

Errors, documented once: `SlackUnavailable` is raised for anything that kept a call from taking
effect (no connection, a timeout, an HTTP error, or Slack answering `ok: false`, e.g.
`not_in_channel`); its message names the method and Slack's reason. Callers decide what that means:
an approval whose confirmation could not be shown is not recorded; a refresh is retried later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from pathlib import Path

import aiohttp
from pydantic import JsonValue
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from server.slack.blocks import Block
from server.slack.limits import check_message, check_view, fallback_text

log = logging.getLogger("medic.slack")


class SlackUnavailable(Exception):
    """A Web API call did not take effect; the message says which call and why."""


class SlackWeb:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def _call(self, method: str, call: Awaitable[AsyncSlackResponse]) -> dict[str, JsonValue]:
        try:
            response = await call
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            raise SlackUnavailable(f"{method}: Slack answered {error or exc}") from None
        except (TimeoutError, SlackClientError, aiohttp.ClientError, OSError) as exc:
            raise SlackUnavailable(f"{method}: Slack did not answer ({type(exc).__name__}: {exc})") from None
        data = response.data
        return data if isinstance(data, dict) else {}

    async def post(self, channel: str, blocks: Sequence[Block], text: str) -> str:
        """Post a message (a thread's parent); its ts."""
        check_message(blocks)
        data = await self._call(
            "chat.postMessage",
            self.client.chat_postMessage(channel=channel, blocks=list(blocks), text=fallback_text(text)),
        )
        return str(data.get("ts") or "")

    async def update(self, channel: str, ts: str, blocks: Sequence[Block], text: str) -> None:
        check_message(blocks)
        await self._call(
            "chat.update",
            self.client.chat_update(channel=channel, ts=ts, blocks=list(blocks), text=fallback_text(text)),
        )

    async def reply(self, channel: str, thread_ts: str, text: str) -> str:
        data = await self._call(
            "chat.postMessage",
            self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=fallback_text(text)),
        )
        return str(data.get("ts") or "")

    async def tell(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
        """A message only `user` sees."""
        await self._call(
            "chat.postEphemeral",
            self.client.chat_postEphemeral(
                channel=channel, user=user, text=fallback_text(text), thread_ts=thread_ts
            ),
        )

    async def publish_home(self, user: str, blocks: Sequence[Block]) -> None:
        view: dict[str, JsonValue] = {"type": "home", "blocks": list(blocks)}
        check_view(view)
        await self._call("views.publish", self.client.views_publish(user_id=user, view=view))

    async def usergroup_members(self, usergroup: str) -> list[str]:
        data = await self._call(
            "usergroups.users.list", self.client.usergroups_users_list(usergroup=usergroup)
        )
        users = data.get("users")
        return [str(u) for u in users] if isinstance(users, list) else []

    async def respond(self, response_url: str, text: str, replace_original: bool = False) -> None:
        """Answer a command or a press through its response_url, visible to its user only."""
        hook = AsyncWebhookClient(response_url, timeout=self.client.timeout, session=self.client.session)
        try:
            sent = await hook.send(
                text=fallback_text(text), response_type="ephemeral", replace_original=replace_original
            )
        except (TimeoutError, SlackClientError, aiohttp.ClientError, OSError) as exc:
            raise SlackUnavailable(
                f"response_url: Slack did not answer ({type(exc).__name__}: {exc})"
            ) from None
        if sent.status_code != 200:
            raise SlackUnavailable(f"response_url: Slack answered {sent.status_code} {sent.body[:200]}")

    async def upload_chart(self, channel: str, thread_ts: str, path: Path, comment: str) -> str:
        """Upload the chart into the thread (files.uploadV2); the file's id."""
        data = await self._call(
            "files.uploadV2",
            self.client.files_upload_v2(
                file=str(path),
                filename=path.name,
                title="signals",
                channel=channel,
                thread_ts=thread_ts,
                initial_comment=fallback_text(comment),
            ),
        )
        file = data.get("file")
        return str(file.get("id") or "") if isinstance(file, dict) else ""
