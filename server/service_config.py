"""What `medic serve` needs beyond the agent's config; `server/settings.py` fills it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from server.auth import TokenGrant
from server.slack.config import SlackConfig


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


class ServiceConfig(BaseModel):
    api_tokens: list[TokenGrant] = Field(default_factory=list, description="who may call the API")
    database_url: str | None = Field(None, description="postgresql://…; None: SQLite in state_dir")
    state_dir: Path = Path(".medic")
    worker: WorkerConfig = Field(default_factory=WorkerConfig)
    run_worker: bool = Field(True, description="False: serve the API only (another replica investigates)")
    approval_ttl_s: float = Field(900.0, gt=0, le=86_400, description="how long an API approval stays valid")
    mcp: McpConfig = Field(default_factory=McpConfig)
    slack: SlackConfig | None = Field(None, description="None: the Slack routes are not mounted")
