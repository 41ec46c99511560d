"""`PendingOpenings`: the watch's detections whose incident could not be opened yet, retried at every
step until the intake takes them, so a database outage of minutes loses no detection.

Why retry here: the loop that made a detection keeps its episode open until the series calms down,
so it will not detect the same trouble again; a failed opening that is only logged is lost.

One pending detection per intake group key (namespace/service/kind), so the map is bounded by the
services watched × the two kinds. While one is pending, a newer detection of the same key is dropped:
the pending one's `opened_at` is the real onset (the incident's start and its id derive from it), and
had the first opening worked, the newer one would only have been a repeat notification on the same
incident's timeline: the intake keeps a repeat's fingerprint, not its reason, evidence or proposal.

Retrying is safe when an opening did reach the database and only its answer was lost: the same
detection lands on the same group, as a repeat notification, not as a second incident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.watch.detection import Detection
from server.watch.intake import group_key

log = logging.getLogger("medic.watch")

# Longer than any database outage, failover or maintenance window we expect, and an incident a few
# hours late still tells the on-call when the trouble began. Past it, the failure is not an outage
# but something retrying will not fix (the intake refusing this detection): we stop, loudly.
GIVE_UP_AFTER = timedelta(hours=6)

OpenDetection = Callable[[Detection], object]  # what the intake answers is not needed here


@dataclass
class _Pending:
    detection: Detection
    attempts: int


def _name(detection: Detection) -> str:
    at = detection.line()["opened_at"]
    return f"{detection.namespace}/{detection.service} ({detection.kind}, detected at {at})"


class PendingOpenings:
    """Opens detections through the intake; keeps the ones that failed and retries them first at the
    next `open`, until they succeed or are older than `give_up_after` (then logged as lost)."""

    def __init__(
        self,
        open_detection: OpenDetection,
        clock: Callable[[], datetime],
        give_up_after: timedelta = GIVE_UP_AFTER,
    ) -> None:
        self.open_detection, self.clock, self.give_up_after = open_detection, clock, give_up_after
        self.pending: dict[str, _Pending] = {}

    def __len__(self) -> int:
        return len(self.pending)

    def retry(self) -> None:
        """Retry the pending detections, oldest first; give up on those older than `give_up_after`."""
        now = self.clock()
        for key, entry in sorted(self.pending.items(), key=lambda item: item[1].detection.opened_at):
            if now - entry.detection.opened_at > self.give_up_after:
                self._give_up(key, f"still failing after {self.give_up_after}")
            else:
                self._try(key, entry)

    def open(self, new: list[Detection]) -> None:
        """Open the new detections; a failed one is kept for `retry`."""
        for detection in new:
            key = group_key(detection)
            if key not in self.pending:  # else the pending one stands for it (see the module's doc)
                self._try(key, _Pending(detection, attempts=0))

    def abandon(self, why: str) -> None:
        """Give up on every pending detection (the watch stops: nothing carries them over)."""
        for key in list(self.pending):
            self._give_up(key, why)

    def _give_up(self, key: str, why: str) -> None:
        entry = self.pending.pop(key)
        log.error(
            "gave up opening the watch's incident for %s after %d attempts (%s): this detection is lost",
            _name(entry.detection),
            entry.attempts,
            why,
        )

    def _try(self, key: str, entry: _Pending) -> None:
        entry.attempts += 1
        try:
            self.open_detection(entry.detection)
        except Exception as error:
            self.pending[key] = entry
            if entry.attempts == 1:  # the traceback once; every retry after it is one line
                log.exception(
                    "opening the watch's incident for %s failed; retried at the next step",
                    _name(entry.detection),
                )
            else:
                log.warning(
                    "opening the watch's incident for %s failed again (attempt %d): %s",
                    _name(entry.detection),
                    entry.attempts,
                    error,
                )
        else:
            self.pending.pop(key, None)
