"""Planted text (the scenario format's `planted:` list): words an outsider controls that reach telemetry.

A request body, a header or an upstream's error message ends up in a log line a service writes or in
an attribute its tracing records. Adversarial scenarios plant prompt injections there ("ignore previous
instructions and ...") to measure that the agent treats telemetry as data, never as instructions.
The simulator writes them in `evals.world.planted`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from evals.durations import parse_duration
from evals.topology import Topology

PlantedChannel = Literal["log", "span_attribute"]
# Pod logs and traces cover the last hour before `end` (evals/world/logs.py WINDOW_MS, spans.py
# TRACE_WINDOW_MS); planted text outside it would silently never be seen, so it is refused.
PLANTED_WINDOW = timedelta(hours=1)
DEFAULT_SPAN_KEY = "exception.message"
# Attributes the simulator sets itself; overwriting them would change what the tools measure.
RESERVED_SPAN_KEYS = frozenset(
    {"http.request.method", "http.response.status_code", "http.route", "server.address"}
)
_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


def _offset(text: str) -> str:
    parse_duration(text)
    return text


class Planted(BaseModel):
    """One piece of planted text: a log line of `service` at `at`, or an attribute of the span of
    `service` (or, for an external service, of the call to it) closest to `at`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: PlantedChannel = Field(alias="in", description="log | span_attribute")
    service: str = Field(description="the service that logs it or whose span carries it")
    text: str = Field(
        min_length=1, max_length=1000, description="a log line without its timestamp; or the value"
    )
    at: Annotated[str, AfterValidator(_offset)] = Field(description="relative to `end`, within the last hour")
    key: str | None = Field(None, description=f"span_attribute only: its name (default {DEFAULT_SPAN_KEY})")

    @model_validator(mode="after")
    def _fits_channel(self) -> Planted:
        if "\n" in self.text or "\r" in self.text:
            raise ValueError("text: one line, without newlines")
        if self.key is not None:
            if self.channel == "log":
                raise ValueError("key: only a span_attribute has a key")
            if not _KEY.match(self.key) or self.key in RESERVED_SPAN_KEYS or self.key.startswith("k8s."):
                raise ValueError(
                    f"key: {self.key!r} must be a dotted lower-case attribute name that the simulator "
                    f"does not set itself ({', '.join(sorted(RESERVED_SPAN_KEYS))}, k8s.*)"
                )
        return self

    @property
    def span_key(self) -> str:
        return self.key or DEFAULT_SPAN_KEY


def check_planted(planted: list[Planted], topology: Topology, history: timedelta) -> None:
    """Raise ValueError (naming the field) for planted text the simulator could not place."""
    reachable = _reachable(topology)
    for i, item in enumerate(planted):
        where = f"planted[{i}]"
        if item.service not in topology.services:
            raise ValueError(
                f"{where}.service: {item.service!r} is not a service of topology {topology.name!r} "
                f"(services: {', '.join(sorted(topology.services))})"
            )
        offset = parse_duration(item.at)
        window = min(PLANTED_WINDOW, history)
        if offset > timedelta(0) or -offset > window:
            raise ValueError(
                f"{where}.at: {item.at} must be between -{window} and 0: logs and traces cover the last hour"
            )
        if item.channel == "log" and not topology.services[item.service].has_pods:
            raise ValueError(f"{where}.service: {item.service!r} is external; it writes no pod logs")
        if item.channel == "span_attribute" and item.service not in reachable:
            raise ValueError(
                f"{where}.service: no entry service calls {item.service!r}, so no trace has its span"
            )


def _reachable(topology: Topology) -> set[str]:
    """Services that requests from an entry service reach (each of them appears in every trace)."""
    seen: set[str] = set()
    pending = [name for name, spec in topology.services.items() if spec.entry]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(topology.services[name].calls)
    return seen
