"""What the Slack app needs, filled by `server/settings.py` from the MEDIC_SLACK_ variables."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class SlackRoles(BaseModel):
    """Slack users and user groups mapped to medic roles (viewer ⊂ responder ⊂ approver, plus team roles
    such as `sre` that policy rules may ask for). Nothing else grants a Slack user a role."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    users: dict[str, list[str]] = Field(default_factory=dict, description="Slack user id (U…) → roles")
    usergroups: dict[str, list[str]] = Field(
        default_factory=dict, description="Slack user group id (S…) → roles its members hold"
    )


class ChannelRoute(BaseModel):
    """Where incidents opened by Alertmanager are posted: the first route whose namespace and severity
    (each optional) match the incident's. A route with neither catches everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str = Field(pattern=r"^[CDG][A-Z0-9]{1,30}$", description="a channel id (C…), not its name")
    namespace: str | None = Field(None, max_length=253)
    severity: str | None = Field(None, max_length=64)


class SlackConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    signing_secret: SecretStr
    bot_token: SecretStr
    api_url: str = Field("https://slack.com/api/", description="the Web API base; tests use a loopback stub")
    team_id: str | None = Field(None, description="set: requests from any other workspace are refused")
    bot_user_id: str | None = Field(None, description="the bot's own user id, so it never answers itself")
    roles: SlackRoles = Field(default_factory=SlackRoles)
    channels: list[ChannelRoute] = Field(default_factory=list)
    default_namespace: str | None = Field(None, description="the namespace of questions that name none")
    timeout_s: float = Field(10.0, gt=0, le=60, description="per Web API call")
    sync_interval_s: float = Field(
        2.0, ge=0.05, le=60, description="how often incident threads are refreshed"
    )
    post_alerts_within_s: float = Field(
        900.0, ge=0, le=86_400, description="alert incidents younger than this get a thread when routed"
    )
    groups_cache_s: float = Field(60.0, ge=0, le=3600, description="how long user group members are cached")

    @field_validator("signing_secret", "bot_token")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("api_url")
    @classmethod
    def _https_unless_loopback(cls, url: str) -> str:
        """The bot token travels with every call: only a loopback stub may be spoken to in clear."""
        parts = urlsplit(url)
        if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
            return url if url.endswith("/") else url + "/"
        raise ValueError("must be https://… (http:// only for a server on 127.0.0.1)")
