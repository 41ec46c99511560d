"""Duration strings of the scenario format: `350ms`, `25m`, `6h`, `3d`; a leading `-` means before `end`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PATTERN = re.compile(r"^(-?)(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$")


def parse_duration(text: str) -> timedelta:
    """Parse a duration string; raises ValueError naming the accepted forms."""
    match = _PATTERN.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"malformed duration {text!r}; expected a number and a unit (ms, s, m, h, d, w), "
            "e.g. '350ms', '25m', '6h', '-20m'"
        )
    sign, number, unit = match.groups()
    seconds = float(number) * _UNITS[unit]
    return timedelta(seconds=-seconds if sign else seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest exact duration string for `delta` (the inverse of parse_duration)."""
    seconds = delta.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{sign}{int(seconds // size)}{unit}"
    return f"{sign}{round(seconds * 1000)}ms"
