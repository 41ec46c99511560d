"""Slack's request signing (v0), checked before anything reads a request: the signature, its age and
that it was not seen before.

Slack signs `v0:<timestamp>:<body>` with the app's signing secret (HMAC-SHA256). A request signed
more than five minutes from our clock is refused (a captured request cannot be sent again later),
and a signature already accepted within that window is refused too (nor sent again now).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

from server.slack.replay import WINDOW_S, RecentlySeen


class Refused(Exception):
    """The request is not one Slack signed for us just now; the message says why."""


class RequestVerifier:
    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        self._secret = signing_secret.encode()
        self.clock = clock
        self.seen = RecentlySeen()

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise `Refused` unless the request is signed with our secret, fresh and new."""
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not timestamp or not signature:
            raise Refused("unsigned: X-Slack-Request-Timestamp and X-Slack-Signature are required")
        try:
            signed_at = int(timestamp)
        except ValueError:
            raise Refused("X-Slack-Request-Timestamp is not a Unix time") from None
        expected = (
            "v0="
            + hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(expected, signature):
            raise Refused("bad signature: not signed with this app's signing secret")
        now = self.clock()
        if abs(now - signed_at) > WINDOW_S:
            raise Refused(f"stale: signed {int(now - signed_at)} s from now, outside Slack's 5 minutes")
        if not self.seen.first_time(signature, signed_at, now):
            raise Refused("replayed: this signed request was already received")
