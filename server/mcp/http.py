"""/mcp on `medic serve`: MCP streamable HTTP behind the API's bearer tokens.

Every request is authenticated like an API call (the same token hashes, subjects and roles) and needs
the token's `mcp` scope: a token minted for a script's API calls does not drive an assistant unless
it says so. The verified caller rides in the ASGI scope to the tools (`server.mcp.identity`).

The transport is stateless with JSON answers: any replica answers any request, with no sticky
sessions, which is how the API scales too. Without a token the answer is 401 with
`WWW-Authenticate: Bearer`, as MCP clients expect. DNS-rebinding protection is not needed on top: a
browser page cannot attach the bearer token.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from server.auth import Forbidden, TokenGrant, Unauthorized, authenticate, require
from server.mcp.door import Door
from server.mcp.identity import PRINCIPAL_KEY, request_principal
from server.mcp.server import build_server
from server.problems import problem


class McpEndpoint:
    """The ASGI app mounted at /mcp: created with the FastAPI app, served while `serving` runs in its
    lifespan (the door exists only then)."""

    def __init__(self, grants: list[TokenGrant]) -> None:
        self._grants = grants
        self._transport: ASGIApp | None = None

    @contextlib.asynccontextmanager
    async def serving(self, door: Door) -> AsyncIterator[None]:
        server = build_server(door, lambda ctx: request_principal(ctx.request))
        manager = StreamableHTTPSessionManager(app=server, stateless=True, json_response=True)
        async with manager.run():
            self._transport = StreamableHTTPASGIApp(manager)
            try:
                yield
            finally:
                self._transport = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._transport is None:
            await problem(503, "Unavailable", "medic is starting or stopping")(scope, receive, send)
            return
        try:
            principal = require(
                authenticate(Headers(scope=scope).get("authorization"), self._grants), "viewer", "mcp"
            )
        except Unauthorized as exc:
            await problem(401, "Unauthorized", str(exc))(scope, receive, send)
            return
        except Forbidden as exc:
            await problem(403, "Forbidden", str(exc))(scope, receive, send)
            return
        await self._transport({**scope, PRINCIPAL_KEY: principal}, receive, send)
