"""What every tool call receives: the investigation's instant, the backends and the config.

`as_of` is the only notion of "now" a tool has (DESIGN §3.2): no tool reads the clock, so a replay or a
backtest at the same instant sees exactly what the original investigation saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tools.config import ToolsConfig
from tools.kube.client import KubeReader
from tools.memory.model import IncidentMemory
from tools.metrics.client import MetricsBackend
from tools.metrics.profiles import ProfileCache
from tools.traces.backend import TraceBackend


@dataclass(frozen=True)
class ToolContext:
    """Backends are None when not configured; the tools that need one then answer `error` and say so."""

    as_of: datetime
    metrics: MetricsBackend | None = None
    kube: KubeReader | None = None
    traces: TraceBackend | None = None
    config: ToolsConfig = field(default_factory=ToolsConfig)
    # past incidents for `similar_incidents`; None: no memory configured (the tool says so, no error)
    memory: IncidentMemory | None = field(default=None, compare=False)
    # the metric profile detected per as_of: shared by the copies `dataclasses.replace` makes per step
    profiles: ProfileCache = field(default_factory=ProfileCache, compare=False, repr=False)

    def close(self) -> None:
        """Close the backends' connections (those that hold any)."""
        for backend in (self.metrics, self.kube, self.traces):
            close = getattr(backend, "close", None)
            if callable(close):
                close()

    def __post_init__(self) -> None:
        if self.as_of.tzinfo is None or self.as_of.utcoffset() is None:
            raise ValueError("ToolContext.as_of must be timezone-aware (UTC)")
        if self.as_of.utcoffset() != timedelta(0):
            object.__setattr__(self, "as_of", self.as_of.astimezone(UTC))
