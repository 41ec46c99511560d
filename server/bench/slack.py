"""`medic bench slack`: how fast `/medic` slash commands are acknowledged when many arrive at once.

Starts `medic serve` (no worker: investigations are not what is measured) with Slack configured
against the loopback Slack stub, itself in a process of its own. Each run sends `bursts` bursts of
`concurrency` signed `/medic <question>` commands at the same instant (each signed just before it
leaves, as Slack would) and times each one to its acknowledgement (Slack allows 3 s). The work after
the acknowledgement (opening the incident, posting its thread) runs in the server meanwhile, as in
production; the next burst starts once the previous burst's threads were posted. The summary is the
median over runs. The numbers are this machine's; nothing here asserts a target.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from pydantic import BaseModel

from server.bench.service import _process_env, start_server

TARGET_P99_MS = 100.0


class AckRun(BaseModel):
    requests: int
    failures: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_ms_per_command: float  # the acknowledgement and the work after it, all threads


class SlackAckBench(BaseModel):
    concurrency: int
    bursts_per_run: int
    runs: list[AckRun]
    median_p50_ms: float
    median_p99_ms: float
    target_p99_ms: float = TARGET_P99_MS


def signed_command(secret: str, text: str, response_url: str) -> tuple[bytes, dict[str, str]]:
    """A slash command's form body and Slack's v0 signature headers for it, timestamped now."""
    fields = {"team_id": "T0001", "channel_id": "CBENCH", "user_id": "UBENCH", "command": "/medic"}
    body = urlencode({**fields, "text": text, "response_url": response_url}).encode()
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }
    return body, headers


class _Load:
    def __init__(self, url: str, stub_root: str, secret: str, session: aiohttp.ClientSession) -> None:
        self.url, self.stub_root, self.secret, self.session = url, stub_root, secret, session
        self.sent = 0

    async def _one(self, text: str) -> tuple[float, bool]:
        body, headers = signed_command(self.secret, text, f"{self.stub_root}/respond/bench")
        started = time.perf_counter()
        try:
            async with self.session.post(f"{self.url}/slack/commands", data=body, headers=headers) as answer:
                payload = await answer.json(content_type=None)
                ok = answer.status == 200 and payload.get("response_type") == "ephemeral"
        except (aiohttp.ClientError, ValueError):
            ok = False
        return (time.perf_counter() - started) * 1000, ok

    async def _posted(self) -> int:
        async with self.session.get(f"{self.stub_root}/stats") as answer:
            counts = await answer.json()
        return int(counts.get("chat.postMessage", 0))

    async def burst(self, concurrency: int, tag: str) -> list[tuple[float, bool]]:
        before = await self._posted()
        texts = [f"is the bench ok {tag}-{self.sent + n}?" for n in range(concurrency)]
        self.sent += concurrency
        timed = await asyncio.gather(*(self._one(t) for t in texts))
        deadline = time.monotonic() + 60
        while await self._posted() < before + sum(ok for _ms, ok in timed) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # the burst's work is done before the next burst
        return list(timed)


def cpu_s(pid: int) -> float:
    """CPU time (user + system, all threads) a process used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _run(url: str, stub_root: str, secret: str, shape: tuple[int, int, int], pid: int) -> list[AckRun]:
    concurrency, bursts, runs = shape
    connector = aiohttp.TCPConnector(limit=concurrency + 1)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        load = _Load(url, stub_root, secret, session)
        for n in range(3):  # opens the connections; the first requests pay for imports and caches
            await load.burst(concurrency, f"warm-up.{n}")
        measured = []
        for run in range(runs):
            cpu = cpu_s(pid)
            timed = [t for b in range(bursts) for t in await load.burst(concurrency, f"{run}.{b}")]
            cpu = cpu_s(pid) - cpu
            ordered = sorted(ms for ms, _ok in timed)
            measured.append(
                AckRun(
                    requests=len(timed),
                    failures=sum(not ok for _ms, ok in timed),
                    p50_ms=round(ordered[len(ordered) // 2], 1),
                    p99_ms=round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
                    max_ms=round(ordered[-1], 1),
                    server_cpu_ms_per_command=round(cpu * 1000 / len(timed), 2),
                )
            )
        return measured


def bench_slack(concurrency: int = 50, bursts: int = 10, runs: int = 3) -> SlackAckBench:
    workdir = Path(tempfile.mkdtemp(prefix="medic-bench-slack-"))
    secret, token = secrets.token_hex(16), f"xoxb-{secrets.token_hex(8)}"
    stub = subprocess.Popen(
        [sys.executable, "-m", "server.bench.slack_stub", token],
        env=_process_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert stub.stdout is not None and stub.stdin is not None
    api_url = stub.stdout.readline().strip()
    env = {
        **_process_env(),
        "HOME": str(workdir),
        "MEDIC_STATE_DIR": str(workdir),
        "MEDIC_SLACK_SIGNING_SECRET": secret,
        "MEDIC_SLACK_BOT_TOKEN": token,
        "MEDIC_SLACK_API_URL": api_url,
        "MEDIC_SLACK_ROLES": json.dumps({"users": {"UBENCH": ["responder"]}}),
        "MEDIC_SLACK_DEFAULT_NAMESPACE": "bench",
    }
    try:
        process, url = start_server(env, workdir, worker=False)
        try:
            shape = (concurrency, bursts, runs)
            stub_root = api_url.removesuffix("/api/")
            measured = asyncio.run(_run(url, stub_root, secret, shape, process.pid))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    finally:
        stub.stdin.close()
        stub.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)
    return SlackAckBench(
        concurrency=concurrency,
        bursts_per_run=bursts,
        runs=measured,
        median_p50_ms=round(statistics.median(r.p50_ms for r in measured), 1),
        median_p99_ms=round(statistics.median(r.p99_ms for r in measured), 1),
    )
