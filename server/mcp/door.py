"""What the MCP tools, resources and prompts work with: the incident services every door shares, and
the registry's read tools over the configured backends.

One `Door` serves every MCP client of a process (over HTTP or stdio); who is calling is decided per
request (`server.mcp.identity`), never stored here.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent.assemble import AgentConfig
from server.deps import Services
from server.service_config import McpConfig, ServiceConfig
from server.store.memory import StoreMemory
from server.store.proposals import ProposalStore
from tools.backends import open_tool_context
from tools.context import ToolContext
from tools.registry import Registry, default_registry


@dataclass(frozen=True)
class Door:
    services: Services
    proposals: ProposalStore
    registry: Registry
    context: ToolContext  # the backends; `as_of` is set per call
    reports_dir: Path  # where the worker writes each incident's report files (the chart)
    config: McpConfig

    def context_at(self, as_of: datetime | None) -> ToolContext:
        """The tools' context as of `as_of` (DESIGN §3.2), or now: no tool reads the clock itself."""
        return dataclasses.replace(self.context, as_of=as_of or datetime.now(UTC))


@contextlib.contextmanager
def open_door(services: Services, agent: AgentConfig, service: ServiceConfig) -> Iterator[Door]:
    """The door over `services`, with the configured backends open until the block ends."""
    context = open_tool_context(agent.tools, datetime.now(UTC))
    # `similar_incidents` over MCP reads the service's memory of past incidents (its incident store)
    context = dataclasses.replace(context, memory=StoreMemory(services.store.engine))
    try:
        yield Door(
            services=services,
            proposals=ProposalStore(services.store.engine, services.store.clock),
            registry=default_registry(),
            context=context,
            reports_dir=service.worker.reports_dir,
            config=service.mcp,
        )
    finally:
        context.close()
