"""What was already received within Slack's five-minute window: signatures, so a captured request cannot
be replayed, and event deliveries, so a message Slack delivers twice is answered once."""

from __future__ import annotations

from collections import OrderedDict

WINDOW_S = 300  # Slack's documented limit; not a setting: a wider window would weaken the check


class RecentlySeen:
    """Keys seen within the window. Each is kept only until its own timestamp goes stale (the staleness
    check refuses it from then on), so the cache holds at most a window's worth of requests.
    Per process: replicas behind one load balancer each keep their own."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self._until: OrderedDict[str, float] = OrderedDict()
        self.max_entries = max_entries

    def first_time(self, key: str, timestamp: float, now: float) -> bool:
        """Remember `key` (sent at `timestamp`); False when it was already seen and is still in its window."""
        self._forget_stale(now)
        if key in self._until:
            return False
        if len(self._until) >= self.max_entries:  # bounded memory: the oldest is the nearest to stale
            self._until.popitem(last=False)
        self._until[key] = timestamp + WINDOW_S
        return True

    def _forget_stale(self, now: float) -> None:
        while self._until:
            key, until = next(iter(self._until.items()))
            if until >= now:
                return
            del self._until[key]

    def __len__(self) -> int:
        return len(self._until)
