"""/slack/commands, /slack/interactions, /slack/events: checked here (signature, age, replay) before Bolt
reads a byte of them. Mounted by `create_app` only when Slack is configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response

from server.problems import problem
from server.slack.signing import Refused

if TYPE_CHECKING:
    from server.slack.runtime import SlackRuntime

MAX_BODY = 256 * 1024  # Slack's payloads are a few kilobytes
PATHS = ("/slack/commands", "/slack/interactions", "/slack/events")


async def _door(request: Request) -> Response:
    runtime: SlackRuntime | None = getattr(request.app.state, "slack", None)
    if runtime is None or runtime.handler is None:
        return problem(503, "Unavailable", "the Slack app is starting or stopping")
    runtime.work.arrived()
    body = await request.body()  # Starlette keeps it: Bolt's handler reads the same bytes
    if len(body) > MAX_BODY:
        return problem(413, "Too large", f"a Slack request of {len(body)} bytes; at most {MAX_BODY}")
    try:
        runtime.verifier.verify(request.headers, body)
    except Refused as exc:
        return problem(401, "Unauthorized", str(exc))
    return await runtime.handler.handle(request)


def mount(app: FastAPI) -> None:
    """Plain Starlette routes: Slack's bodies are read raw (the signature covers the bytes), so none of
    FastAPI's parsing or validation applies, and the acknowledgement path stays short."""
    for path in PATHS:
        app.add_route(path, _door, methods=["POST"], include_in_schema=False)
