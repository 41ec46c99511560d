"""The work a Slack request asks for, run after its acknowledgement, with acknowledgements first.

Slack waits 3 s for an acknowledgement and nothing for the work after it, so the work yields: it
starts once no Slack request arrived for a moment (`QUIET_S`), or after `MAX_DEFER_S` under steady
load, and only `AT_ONCE` pieces run together. A burst of commands is acknowledged in full before
its incidents are opened and their threads posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine

log = logging.getLogger("medic.slack")
AT_ONCE = 2
QUIET_S = 0.05
MAX_DEFER_S = 1.0


class AfterAck:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(AT_ONCE)
        self._last_arrival = 0.0

    def arrived(self) -> None:
        """A Slack request arrived: work waits until they stop arriving."""
        self._last_arrival = asyncio.get_running_loop().time()

    def spawn(self, work: Coroutine[object, object, None]) -> None:
        """Run `work` later; kept until done, so shutdown can wait for it."""
        task = asyncio.create_task(self._when_quiet(work))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    async def _when_quiet(self, work: Coroutine[object, object, None]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_DEFER_S
        async with self._slots:
            while loop.time() < deadline and loop.time() - self._last_arrival < QUIET_S:
                await asyncio.sleep(QUIET_S)
            await work

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack work failed", exc_info=task.exception())

    async def drain(self, timeout_s: float) -> None:
        """Let the work in flight finish; cancel what is left after `timeout_s`."""
        if not self._tasks:
            return
        _finished, late = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in late:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*late, return_exceptions=True)
