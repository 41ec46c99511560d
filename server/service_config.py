"""What `medic serve` needs beyond the agent's config; `server/settings.py` fills it."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, model_validator

from server.auth import TokenGrant
from server.slack.config import SlackConfig
from server.watch.config import WatchConfig


class WorkerConfig(BaseModel):
    concurrency: int = Field(4, ge=1, le=64, description="investigations run at once by one process")
    lease_s: float = Field(30.0, ge=2, le=3600, description="a dead replica's work is taken over after this")
    poll_s: float = Field(0.5, gt=0, le=30)
    reports_dir: Path = Path(".medic/reports")


class McpConfig(BaseModel):
    """The MCP door (`/mcp` and `medic mcp`)."""

    page_size: int = Field(50, ge=1, le=500, description="items per page of every MCP list (cursors)")
    propose_wait_s: float = Field(
        30.0, gt=0, le=300, description="how long propose_action waits for the guard's check and dry-run"
    )
    timeline_entries: int = Field(15, ge=1, le=200, description="latest timeline entries get_incident shows")


class ShardConfig(BaseModel):
    """How the watch is split between replicas (server/watch/shards.py); fixed for a deployment: a new
    count starts fresh leases and checkpoints."""

    count: int = Field(32, ge=1, le=4096, description="shards the services are split into")
    lease_s: float = Field(90.0, ge=1, le=3600, description="a dead replica's shards are taken after this")


class ServeWatchConfig(BaseModel):
    """The watch loop inside `medic serve` (server/watch/sharded.py) and how its services are split
    between replicas."""

    loop: WatchConfig = Field(default_factory=WatchConfig)
    shards: ShardConfig = Field(default_factory=ShardConfig)

    @model_validator(mode="after")
    def _lease_outlasts_a_step(self) -> Self:
        if self.shards.lease_s < 2 * self.loop.step_s:
            raise ValueError(
                f"the watch lease ({self.shards.lease_s:g} s, MEDIC_WATCH_LEASE_S) must last at least two "
                f"steps ({self.loop.step_s:g} s each, MEDIC_WATCH_STEP_S): it is renewed once a step"
            )
        return self


class ServiceConfig(BaseModel):
    api_tokens: list[TokenGrant] = Field(default_factory=list, description="who may call the API")
    database_url: str | None = Field(None, description="postgresql://…; None: SQLite in state_dir")
    state_dir: Path = Path(".medic")
    worker: WorkerConfig = Field(default_factory=WorkerConfig)
    run_worker: bool = Field(True, description="False: serve the API only (another replica investigates)")
    approval_ttl_s: float = Field(900.0, gt=0, le=86_400, description="how long an API approval stays valid")
    mcp: McpConfig = Field(default_factory=McpConfig)
    slack: SlackConfig | None = Field(None, description="None: the Slack routes are not mounted")
    watch: ServeWatchConfig | None = Field(None, description="None: this replica runs no watch loop")
