"""Which channel an Alertmanager incident is posted to, and which namespace a channel's questions are about."""

from __future__ import annotations

from agent.incident import Incident
from server.slack.config import ChannelRoute


def channel_for(routes: list[ChannelRoute], incident: Incident) -> str | None:
    """The first route whose namespace and severity (each when set) are the incident's; None: not posted."""
    severity = incident.labels.get("severity")
    for route in routes:
        if route.namespace is not None and route.namespace != incident.namespace:
            continue
        if route.severity is not None and route.severity != severity:
            continue
        return route.channel
    return None


def namespace_for(routes: list[ChannelRoute], channel: str, default: str | None) -> str | None:
    """The namespace a channel's routes name (the first that names one), else the default."""
    return next((r.namespace for r in routes if r.channel == channel and r.namespace), default)
