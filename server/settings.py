"""Settings: the one place medic reads its environment (variables prefixed `MEDIC_`).

Each layer declares the small config model it needs (ToolsConfig, AgentConfig, OpenAIPlannerConfig,
SandboxConfig); the settings fill them and pass them down. `load_settings()` is called by the entry
points, never at import time. Nothing here can switch a safety invariant off: the policy file
decides what may run, and the default one only dry-runs.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.runbook import DEFAULT_RUNBOOK_PATH
from agent.state import Budget
from policies.approver import Approver
from server.auth import TokenGrant
from server.service_config import McpConfig, ServeWatchConfig, ServiceConfig, ShardConfig, WorkerConfig
from server.slack.config import ChannelRoute, SlackConfig, SlackRoles
from server.telemetry import TelemetryConfig
from tools.config import ToolsConfig
from tools.metrics.profiles import ProfileName
from tools.traces.config import TracesConfig

if TYPE_CHECKING:  # the agent pulls in the graph and LLM libraries: imported when a command needs it
    from agent.assemble import AgentConfig
    from server.watch.config import WatchConfig


class Settings(BaseSettings):
    """Everything configurable, with safe defaults."""

    model_config = SettingsConfigDict(env_prefix="MEDIC_", extra="ignore")

    # Backends (DESIGN §4); the sandbox's env file sets the first four.
    prometheus_url: str | None = None
    kubeconfig: Path | None = None
    standard_kubeconfig: str | None = Field(
        None,
        validation_alias="KUBECONFIG",
        description="kubectl's own variable (a colon-separated list), read when MEDIC_KUBECONFIG is unset",
    )
    kube_context: str | None = None
    act_kubeconfig: Path | None = Field(
        None,
        description="the action executor's own kubeconfig (the medic-act identity); None: MEDIC_KUBECONFIG",
    )
    act_kube_context: str | None = None
    kube_in_cluster: bool = False
    traces_backend: Literal["otlp-file", "jaeger", "tempo"] | None = None
    traces_dir: Path | None = None
    traces_url: str | None = None
    timeout_s: float = Field(10.0, gt=0, le=120, description="per backend request")
    metric_profile: ProfileName | None = Field(
        None, description="pin the request-metric convention (e.g. istio); unset: detected per investigation"
    )

    # The agent.
    planner: Literal["rules", "openai"] = "rules"
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    max_tool_calls: int = Field(30, ge=1, le=200)
    max_wall_s: float = Field(120.0, gt=0, le=3600)
    max_llm_tokens: int = Field(60_000, ge=0)

    # `medic eval`'s judge (G-Eval rubrics of each report's grounding and clarity); unset: "not run".
    eval_judge_model: str | None = None
    eval_judge_base_url: str | None = Field(None, description="an OpenAI-compatible endpoint, e.g. …/v1")
    eval_judge_api_key: SecretStr | None = None

    # Safety and records.
    policy_file: Path | None = Field(None, description="None: the shipped default (dry-run mode)")
    runbook_file: Path = DEFAULT_RUNBOOK_PATH
    audit_url: str = Field(".medic/audit.db", description="a SQLite path, or postgresql://…")
    database_url: str | None = Field(None, description="postgresql://… for checkpoints; None: SQLite")
    state_dir: Path = Path(".medic")
    recovery_within_s: float = Field(
        300.0,
        ge=0,
        le=3600,
        description="after an executed action, how long to wait for the errors to recede",
    )
    approver: str = Field(default_factory=lambda: f"cli:{_login()}")
    approver_roles: list[str] = Field(
        default_factory=list,
        description="roles the deployment grants whoever approves from this CLI; none by default, so "
        "CLI approvals count for nothing until the policy's roles are granted here",
    )

    # The service (`medic serve`).
    api_tokens: list[TokenGrant] = Field(
        default_factory=list,
        description='JSON list of {"subject", "sha256", "roles", "groups", "scopes"}; sha256 of the token',
    )
    serve_worker: bool = Field(True, description="investigate in this replica, not only serve the API")
    worker_concurrency: int = Field(4, ge=1, le=64, description="investigations one replica runs at once")
    lease_s: float = Field(30.0, ge=2, le=3600, description="a dead replica's work is taken over after this")
    approval_ttl_s: float = Field(900.0, gt=0, le=86_400, description="how long an API approval stays valid")
    mcp_token_file: Path | None = Field(
        None,
        description="`medic mcp` answers as this token's subject (one of MEDIC_API_TOKENS, with the mcp "
        "scope; approver counts as responder); unset: as a viewer",
    )
    mcp_page_size: int = Field(50, ge=1, le=500, description="items per page of MCP lists")

    # Slack (DESIGN §5.2): mounted on `medic serve` when the signing secret and bot token are set.
    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_team_id: str | None = Field(None, description="requests from any other workspace are refused")
    slack_bot_user_id: str | None = None
    slack_roles: SlackRoles = Field(
        default_factory=SlackRoles,
        description='JSON {"users": {"U…": ["approver", "sre"]}, "usergroups": {"S…": ["responder"]}}',
    )
    slack_channels: list[ChannelRoute] = Field(
        default_factory=list,
        description='JSON list of {"channel": "C…", "namespace"?, "severity"?} for Alertmanager incidents',
    )
    slack_default_namespace: str | None = None
    slack_timeout_s: float = Field(10.0, gt=0, le=60)
    slack_sync_interval_s: float = Field(2.0, ge=0.05, le=60)

    @model_validator(mode="after")
    def _judge_model_and_url_together(self) -> Settings:
        if (self.eval_judge_model is None) != (self.eval_judge_base_url is None):
            raise ValueError(
                "MEDIC_EVAL_JUDGE_MODEL and MEDIC_EVAL_JUDGE_BASE_URL go together: set both or neither"
            )
        return self

    @model_validator(mode="after")
    def _slack_secret_and_token_together(self) -> Settings:
        if (self.slack_signing_secret is None) != (self.slack_bot_token is None):
            raise ValueError(
                "MEDIC_SLACK_SIGNING_SECRET and MEDIC_SLACK_BOT_TOKEN go together: set both or neither"
            )
        return self

    # medic's own traces: the standard OpenTelemetry variables (no exporter unless they name one).
    otel_traces_exporter: str | None = Field(None, validation_alias="OTEL_TRACES_EXPORTER")
    otel_exporter_otlp_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        None, validation_alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    otel_service_name: str = Field("medic", validation_alias="OTEL_SERVICE_NAME")

    # `medic watch` (server/watch/): the detection loop ahead of the pager.
    watch_namespaces: list[str] = Field(default_factory=list, description="JSON list; empty: every namespace")
    watch_step_s: float = Field(30.0, ge=1, le=3600, description="seconds between two steps of the loop")
    watch_horizon_s: float = Field(7200.0, gt=0, le=604_800, description="saturation forecast horizon")
    watch_enabled: bool = Field(False, description="`medic serve` runs the watch loop on its share of shards")
    watch_shards: int = Field(32, ge=1, le=4096, description="shards the services are split into (fixed)")
    watch_lease_s: float = Field(
        90.0, ge=1, le=3600, description="a dead replica's shards are taken over after this (> step)"
    )

    # The sandbox (DESIGN §3.7).
    sandbox_dir: Path = Field(Path(".medic/sandbox"), description="state of running sandboxes")
    prometheus_bin: str = "prometheus"
    promtool_bin: str = "promtool"
    sandbox_start_timeout_s: float = Field(60.0, gt=0, le=600)

    def watch_config(self) -> WatchConfig:
        from server.watch.config import ForecastRule, WatchConfig

        return WatchConfig(
            namespaces=self.watch_namespaces,
            step_s=self.watch_step_s,
            forecast=ForecastRule(horizon_s=self.watch_horizon_s),
        )

    def serve_watch_config(self) -> ServeWatchConfig:
        return ServeWatchConfig(
            loop=self.watch_config(),
            shards=ShardConfig(count=self.watch_shards, lease_s=self.watch_lease_s),
        )

    def approver_seat(self) -> Approver:
        """Who answers approvals from this CLI, with the roles the deployment grants that seat."""
        return Approver(identity=self.approver, roles=self.approver_roles)

    def kubeconfig_file(self) -> Path | None:
        """MEDIC_KUBECONFIG, else the first existing file KUBECONFIG lists (the first listed if none
        exists, so that opening it says which); None in-cluster or when neither is set."""
        if self.kubeconfig is not None or self.kube_in_cluster:
            return self.kubeconfig
        listed = [Path(p).expanduser() for p in (self.standard_kubeconfig or "").split(os.pathsep) if p]
        return next((p for p in listed if p.is_file()), listed[0] if listed else None)

    def tools_config(self) -> ToolsConfig:
        traces = TracesConfig(backend=self.traces_backend, dir=self.traces_dir, url=self.traces_url)
        return ToolsConfig(
            prometheus_url=self.prometheus_url,
            kubeconfig=self.kubeconfig_file(),
            kube_context=self.kube_context,
            kube_in_cluster=self.kube_in_cluster,
            timeout_s=self.timeout_s,
            metric_profile=self.metric_profile,
            traces=traces,
        )

    def telemetry_config(self) -> TelemetryConfig:
        return TelemetryConfig(
            traces_exporter=self.otel_traces_exporter,
            otlp_endpoint=self.otel_exporter_otlp_endpoint,
            otlp_traces_endpoint=self.otel_exporter_otlp_traces_endpoint,
            service_name=self.otel_service_name,
        )

    def service_config(self) -> ServiceConfig:
        return ServiceConfig(
            api_tokens=self.api_tokens,
            database_url=self.database_url,
            state_dir=self.state_dir,
            run_worker=self.serve_worker,
            approval_ttl_s=self.approval_ttl_s,
            slack=self.slack_config(),
            mcp=McpConfig(page_size=self.mcp_page_size),
            watch=self.serve_watch_config() if self.watch_enabled else None,
            worker=WorkerConfig(
                concurrency=self.worker_concurrency,
                lease_s=self.lease_s,
                reports_dir=self.state_dir / "reports",
            ),
        )

    def slack_config(self) -> SlackConfig | None:
        if self.slack_signing_secret is None or self.slack_bot_token is None:
            return None
        return SlackConfig(
            signing_secret=self.slack_signing_secret,
            bot_token=self.slack_bot_token,
            api_url=self.slack_api_url,
            team_id=self.slack_team_id,
            bot_user_id=self.slack_bot_user_id,
            roles=self.slack_roles,
            channels=self.slack_channels,
            default_namespace=self.slack_default_namespace,
            timeout_s=self.slack_timeout_s,
            sync_interval_s=self.slack_sync_interval_s,
        )

    def agent_config(self) -> AgentConfig:
        from agent.assemble import AgentConfig
        from agent.planners.openai_client import OpenAIPlannerConfig

        openai = None
        if self.planner == "openai":
            if not (self.openai_base_url and self.openai_api_key):
                raise ValueError("the openai planner needs MEDIC_OPENAI_BASE_URL and MEDIC_OPENAI_API_KEY")
            openai = OpenAIPlannerConfig(
                base_url=self.openai_base_url, api_key=self.openai_api_key, model=self.openai_model
            )
        return AgentConfig(
            tools=self.tools_config(),
            planner=self.planner,
            openai=openai,
            policy_file=self.policy_file,
            runbook_file=self.runbook_file,
            audit_url=self.audit_url,
            database_url=self.database_url,
            state_dir=self.state_dir,
            act_kubeconfig=self.act_kubeconfig,
            act_kube_context=self.act_kube_context,
            recovery_within_s=self.recovery_within_s,
            budget=Budget(
                max_tool_calls=self.max_tool_calls,
                max_wall_s=self.max_wall_s,
                max_llm_tokens=self.max_llm_tokens,
            ),
        )


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container running as an arbitrary uid with no USER
        return f"uid-{os.getuid()}"


def load_settings() -> Settings:
    return Settings()
