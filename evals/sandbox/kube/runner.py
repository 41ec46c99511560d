"""Starting the emulator: `serve` (async, in the caller's event loop) and `run_in_thread` (sync, for
tests and tools that use the blocking official client), both on 127.0.0.1 and a free port by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import aiohttp.web

from evals.sandbox.kube.api import KubeApi
from evals.sandbox.kube.server import KubeEmulator
from evals.sandbox.kube.state import KubeState, build_store


@dataclass(frozen=True)
class RunningEmulator:
    url: str
    api: KubeApi  # the live state; read it only while no request is in flight


def build_emulator(state: KubeState) -> KubeEmulator:
    store, logs = build_store(state)
    return KubeEmulator(api=KubeApi(store, logs))


@contextlib.asynccontextmanager
async def serve(state: KubeState, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[RunningEmulator]:
    """Serve `state` over HTTP until the block exits; yields the URL (with the port actually bound)."""
    emulator = build_emulator(state)
    async with emulator:
        runner = aiohttp.web.ServerRunner(aiohttp.web.Server(emulator), handle_signals=False)
        await runner.setup()
        try:
            site = aiohttp.web.TCPSite(runner, host, port)
            await site.start()
            bound_host, bound_port = runner.addresses[0][:2]
            yield RunningEmulator(url=f"http://{bound_host}:{bound_port}", api=emulator.api)
        finally:
            await runner.cleanup()


@contextlib.contextmanager
def run_in_thread(state: KubeState, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningEmulator]:
    """`serve` on a background thread with its own event loop, stopped when the block exits."""
    started: list[RunningEmulator] = []
    failures: list[BaseException] = []
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        try:
            async with serve(state, host, port) as running:
                started.append(running)
                ready.set()
                await stop.wait()
        except BaseException as exc:
            failures.append(exc)
            ready.set()

    thread = threading.Thread(
        target=loop.run_until_complete, args=(main(),), name="kube-emulator", daemon=True
    )
    thread.start()
    ready.wait(timeout=30)
    try:
        if failures:
            raise failures[0]
        if not started:
            raise TimeoutError("the Kubernetes emulator did not start within 30 s")
        yield started[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()
