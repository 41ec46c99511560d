"""Work after an acknowledgement waits for a burst of Slack requests to pass, and is never lost."""

from __future__ import annotations

import asyncio

import pytest

from server.slack import after_ack
from server.slack.after_ack import AfterAck


@pytest.mark.asyncio
async def test_work_waits_for_the_burst_then_runs() -> None:
    work = AfterAck()
    loop = asyncio.get_running_loop()
    started: list[float] = []

    async def piece() -> None:
        started.append(loop.time())

    burst_until = loop.time() + 0.3
    work.spawn(piece())
    while loop.time() < burst_until:  # requests keep arriving for 0.3 s
        work.arrived()
        await asyncio.sleep(0.01)
    await work.drain(timeout_s=5)
    assert started and started[0] >= burst_until


@pytest.mark.asyncio
async def test_work_is_deferred_at_most_a_second_under_steady_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(after_ack, "MAX_DEFER_S", 0.2)
    work = AfterAck()
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    async def piece() -> None:
        done.set()

    spawned = loop.time()
    work.spawn(piece())
    while not done.is_set() and loop.time() - spawned < 2:
        work.arrived()
        await asyncio.sleep(0.01)
    assert done.is_set() and loop.time() - spawned < 1


@pytest.mark.asyncio
async def test_drain_cancels_what_is_left_and_failures_are_contained(
    caplog: pytest.LogCaptureFixture,
) -> None:
    work = AfterAck()
    finished: list[str] = []

    async def fails() -> None:
        raise RuntimeError("boom")

    async def slow() -> None:
        await asyncio.sleep(30)
        finished.append("slow")

    async def quick() -> None:
        finished.append("quick")

    for piece in (fails(), quick(), slow()):
        work.spawn(piece)
    await work.drain(timeout_s=1)
    assert finished == ["quick"]
    assert "Slack work failed" in caplog.text
