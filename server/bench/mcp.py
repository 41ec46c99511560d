"""`medic bench mcp`: the MCP door's latency over streamable HTTP, `tools/list` and one read tool.

Starts `medic serve` as its own process on 127.0.0.1 (no worker: nothing is investigated) against the
backends given (a sandbox's), and drives `/mcp` with the official client, one request at a time, so
the numbers are the latency of one call end to end: HTTP, bearer check, the MCP layer and, for the
read tool, the registry's run against Prometheus. The numbers are this machine's; nothing is asserted.
"""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pydantic import BaseModel, JsonValue

from server.auth import TokenGrant, token_hash
from server.bench.service import _process_env, start_server


class Latency(BaseModel):
    calls: int
    p50_ms: float
    p99_ms: float


class McpRun(BaseModel):
    list_tools: Latency
    call_tool: Latency


class McpBench(BaseModel):
    protocol_version: str
    tools_listed: int
    read_tool: str
    runs: list[McpRun]
    median_list_tools_p50_ms: float
    median_list_tools_p99_ms: float
    median_call_tool_p50_ms: float
    median_call_tool_p99_ms: float


def _latency(samples: list[float]) -> Latency:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return Latency(calls=len(ordered), p50_ms=round(statistics.median(ordered), 2), p99_ms=round(p99, 2))


async def _timed(call: Callable[[], Awaitable[object]], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _measure(
    url: str, token: str, tool: str, arguments: dict[str, JsonValue], calls: int, runs: int
) -> tuple[str, int, list[McpRun]]:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
    async with http, Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
        listed = await client.list_tools()
        first = await client.call_tool(tool, arguments)
        if getattr(first, "is_error", True):
            raise RuntimeError(f"{tool} answered with an error: {first}")
        await _timed(client.list_tools, 10)  # warm-up: connections, caches, the first query's plan

        async def call_tool() -> Any:
            return await client.call_tool(tool, arguments)

        results = []
        for _ in range(runs):
            listing = await _timed(client.list_tools, calls)
            calling = await _timed(call_tool, calls)
            results.append(McpRun(list_tools=_latency(listing), call_tool=_latency(calling)))
        return client.protocol_version, len(listed.tools), results


def bench_mcp(
    backends: dict[str, str], tool: str, arguments: dict[str, JsonValue], calls: int, runs: int
) -> McpBench:
    """Latency of `tools/list` and of `tool(arguments)` over /mcp: `runs` passes of `calls` each."""
    workdir = Path(tempfile.mkdtemp(prefix="medic-bench-mcp-"))
    token = secrets.token_urlsafe(24)
    grant = TokenGrant(subject="bench", sha256=token_hash(token), roles=["viewer"], scopes=["mcp"])
    env = {
        **_process_env(),
        "HOME": str(workdir),
        **backends,
        "MEDIC_STATE_DIR": str(workdir),
        "MEDIC_API_TOKENS": json.dumps([grant.model_dump()]),
    }
    process, url = start_server(env, workdir, worker=False)
    try:
        version, listed, results = anyio.run(_measure, url, token, tool, arguments, calls, runs)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        shutil.rmtree(workdir, ignore_errors=True)

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 2)

    return McpBench(
        protocol_version=version,
        tools_listed=listed,
        read_tool=tool,
        runs=results,
        median_list_tools_p50_ms=median([r.list_tools.p50_ms for r in results]),
        median_list_tools_p99_ms=median([r.list_tools.p99_ms for r in results]),
        median_call_tool_p50_ms=median([r.call_tool.p50_ms for r in results]),
        median_call_tool_p99_ms=median([r.call_tool.p99_ms for r in results]),
    )
