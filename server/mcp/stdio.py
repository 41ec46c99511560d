"""`medic mcp`: the MCP server over stdio, for an assistant on the engineer's own machine.

It opens the same parts `medic serve` does (the configured incident store, backends and, unless told
otherwise, a worker: an incident opened here is investigated), and answers as one identity for the
whole session (`server.mcp.identity.stdio_principal`). Stdout carries the protocol only: the SDK
points file descriptor 1 at stderr while serving, and medic logs to stderr.
"""

from __future__ import annotations

import anyio
from mcp.server.stdio import stdio_server

from agent.assemble import AgentConfig
from server.auth import Principal
from server.lifecycle import open_services
from server.mcp.door import open_door
from server.mcp.server import build_server
from server.service_config import ServiceConfig


def serve_stdio(service: ServiceConfig, agent: AgentConfig, principal: Principal) -> None:
    """Serve until the client closes stdin."""
    anyio.run(_serve, service, agent, principal)


async def _serve(service: ServiceConfig, agent: AgentConfig, principal: Principal) -> None:
    async with stdio_server() as (read_stream, write_stream):
        with open_services(service, agent) as services, open_door(services, agent, service) as door:
            server = build_server(door, lambda _ctx: principal)
            await server.run(read_stream, write_stream, server.create_initialization_options())
