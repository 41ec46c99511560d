"""What the trace tools need to know about the trace backend (composed into the settings by `server/`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

TraceBackendKind = Literal["otlp-file", "jaeger", "tempo"]


class TracesConfig(BaseModel):
    """Which trace backend to read, and the bounds every query keeps (so no tool can hang or flood)."""

    model_config = ConfigDict(frozen=True)

    backend: TraceBackendKind | None = Field(None, description="None: no traces; the trace tools say so")
    dir: Path | None = Field(None, description="otlp-file: a directory of *.json/*.jsonl files, or one file")
    url: str | None = Field(None, description="jaeger: query service base URL; tempo: HTTP API base URL")
    timeout_s: float = Field(10.0, gt=0, le=300, description="per HTTP request")
    max_traces: int = Field(200, ge=1, le=10_000, description="most traces one query may fetch")
    tenant: str | None = Field(None, description="tempo multi-tenancy: sent as X-Scope-OrgID")

    @model_validator(mode="after")
    def _needs_location(self) -> Self:
        if self.backend == "otlp-file" and self.dir is None:
            raise ValueError("traces backend 'otlp-file' needs `dir` (where the OTLP JSON lines are)")
        if self.backend in ("jaeger", "tempo") and not self.url:
            raise ValueError(f"traces backend {self.backend!r} needs `url`")
        return self
