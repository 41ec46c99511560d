"""Settings: the one place medic reads its environment (variables prefixed `MEDIC_`).

Each layer declares the small config model it needs; the settings fill them and pass them down.
`load_settings()` is called by the entry points, never at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable, with safe defaults."""

    model_config = SettingsConfigDict(env_prefix="MEDIC_", extra="ignore")

    # The sandbox (DESIGN §3.7): where its processes keep their state, and the binaries it runs.
    sandbox_dir: Path = Field(Path(".medic/sandbox"), description="state of running sandboxes")
    prometheus_bin: str = "prometheus"
    promtool_bin: str = "promtool"
    sandbox_start_timeout_s: float = Field(60.0, gt=0, le=600)

    # Backends of a real deployment (DESIGN §4); the sandbox's env file sets these too.
    prometheus_url: str | None = None
    kubeconfig: Path | None = None
    traces_backend: str | None = None
    traces_dir: Path | None = None


def load_settings() -> Settings:
    return Settings()
