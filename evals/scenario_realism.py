"""The scenario's optional `realism:` block (DESIGN §3.5): what makes a simulated cluster as hard to read
as a real one. Clients with timeouts and retries, baseline noise, daily and weekly seasonality and
benign traffic spikes.

Every default reproduces the plain load model, so a scenario without the block gives the same bytes it
always gave. The meaning of each field is in docs/scenarios.md; the simulator side is in
`evals.world.retries` and `evals.world.baseline`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from evals.durations import parse_duration
from evals.topology import Topology


def _positive_duration(text: str) -> str:
    if parse_duration(text) <= timedelta(0):
        raise ValueError(f"{text!r} must be a positive duration, e.g. '300ms', '2m'")
    return text


def _duration(text: str) -> str:
    parse_duration(text)
    return text


Duration = Annotated[str, AfterValidator(_duration)]
PositiveDuration = Annotated[str, AfterValidator(_positive_duration)]

MAX_RETRIES = 5
MAX_SPIKE = timedelta(minutes=30)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClientPolicy(_Strict):
    """How one caller calls its dependencies; an unset field takes the block's value."""

    timeout: PositiveDuration | None = Field(None, description="give up on a call after this long")
    retries: int | None = Field(None, ge=0, le=MAX_RETRIES, description="extra attempts after a failure")


class Seasonality(_Strict):
    """The shape of every entry service's traffic over the day and the week (as a share of `rps`)."""

    night_level: float = Field(0.4, gt=0, le=1, description="the quietest hour, as a share of the daily peak")
    peak_hour_utc: float = Field(15.0, ge=0, lt=24, description="hour of the daily peak (UTC)")
    weekend_level: float = Field(
        1.0, gt=0, le=1.5, description="Saturday's and Sunday's traffic as a share of a weekday's"
    )


class BenignSpikes(_Strict):
    """Short bursts of outside traffic that are not incidents (a newsletter, a crawler, a retry storm
    of a mobile app that ends on its own)."""

    per_day: float = Field(0.0, ge=0, le=48, description="mean number of bursts per day of history")
    factor: float = Field(1.8, gt=1, le=4, description="traffic multiplier at the top of a burst")
    duration: PositiveDuration = Field("3m", description="how long one burst lasts (at most 30m)")
    services: list[str] = Field(
        default_factory=list, description="entry services that burst; default: every entry service"
    )
    at: list[Duration] = Field(
        default_factory=list, description="bursts at these moments (relative to `end`), besides per_day's"
    )

    @model_validator(mode="after")
    def _short(self) -> BenignSpikes:
        if parse_duration(self.duration) > MAX_SPIKE:
            raise ValueError(f"duration: {self.duration} is too long for a benign spike (at most 30m)")
        return self

    def duration_s(self) -> float:
        return parse_duration(self.duration).total_seconds()


class Realism(_Strict):
    """Opt-in realism; the defaults are the plain model of DESIGN §3.5."""

    client_timeout: PositiveDuration | None = Field(
        None, description="every caller gives up on a call after this long (default: never)"
    )
    retries: int = Field(
        0, ge=0, le=MAX_RETRIES, description="extra attempts a caller makes after a failed or timed-out call"
    )
    clients: dict[str, ClientPolicy] = Field(
        default_factory=dict, description="per calling service: its own timeout and retries"
    )
    noise: float = Field(
        0.0, ge=0, le=0.5, description="extra slow-wandering noise on traffic and latency (0.1 = about ±10 %)"
    )
    seasonality: Seasonality = Field(default_factory=Seasonality)
    benign_spikes: BenignSpikes = Field(default_factory=BenignSpikes)

    def client(self, caller: str) -> tuple[float | None, int]:
        """(timeout in ms or None, retries) of `caller`."""
        policy = self.clients.get(caller, ClientPolicy())
        timeout = policy.timeout if policy.timeout is not None else self.client_timeout
        retries = policy.retries if policy.retries is not None else self.retries
        timeout_ms = None if timeout is None else parse_duration(timeout).total_seconds() * 1000.0
        return timeout_ms, retries

    @property
    def has_clients(self) -> bool:
        """Whether any caller times out or retries (else the load model runs once, as it always did)."""
        return any(self.client(name) != (None, 0) for name in [*self.clients, ""])


def check_realism(realism: Realism, topology: Topology, history: timedelta) -> None:
    """The block's references to the topology: clients that call something, spikes on entry services,
    spike moments within the history. Raises ValueError naming the field."""
    services = topology.services
    for caller in realism.clients:
        if caller not in services:
            raise ValueError(
                f"realism.clients.{caller}: {caller!r} is not a service of topology {topology.name!r} "
                f"(services: {', '.join(sorted(services))})"
            )
        if not services[caller].calls:
            raise ValueError(f"realism.clients.{caller}: {caller!r} calls no service, so it has no client")
    spikes = realism.benign_spikes
    for i, at in enumerate(spikes.at):
        offset = parse_duration(at)
        if offset > timedelta(0) or -offset > history:
            raise ValueError(
                f"realism.benign_spikes.at[{i}]: {at} must be between -{history} and 0 (relative to end)"
            )
    entries = [name for name, spec in services.items() if spec.entry]
    for i, name in enumerate(spikes.services):
        if name not in entries:
            raise ValueError(
                f"realism.benign_spikes.services[{i}]: {name!r} is not an entry service "
                f"(entry services: {', '.join(entries)})"
            )
