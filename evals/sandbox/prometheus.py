"""A real Prometheus holding a scenario's history: promtool backfill, then the server on 127.0.0.1.

Backfill runs while the OpenMetrics is still being written: each 2h window file (see
`openmetrics.write_windows`) goes to `promtool tsdb create-blocks-from openmetrics` as soon as it is
closed, two promtool processes at a time, all writing their blocks straight into the TSDB directory
(each block is created under a temporary name and renamed, so concurrent writers do not collide).
Prometheus is started only afterwards: it reads the blocks once at startup, not while running.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from evals.sandbox.openmetrics import WindowFile, write_windows
from evals.sandbox.processes import (
    ProcessError,
    ProcessRecord,
    SandboxError,
    free_port,
    start_detached,
    wait_until,
)
from evals.world.model import World

INSTALL_HINT = "install Debian's prometheus package (make setup does it)"
_CONFIG = "# The sandbox scrapes nothing: its history is backfilled with promtool.\nglobal: {}\n"


class PrometheusError(SandboxError):
    """promtool or Prometheus is missing, failed, or would not come up; the message says what to fix."""


def find_binary(name: str) -> str:
    """The path of `name` (a command name or a path), or an error saying how to install it."""
    path = shutil.which(name)
    if path is None:
        raise PrometheusError(f"{name} not found on PATH: {INSTALL_HINT}")
    return path


@dataclass
class BackfillStats:
    windows: int
    samples: int
    write_s: float  # time spent writing OpenMetrics
    write_cpu_s: float  # CPU time of that writing (the wall time also counts promtool's share of the cores)
    backfill_wait_s: (
        float  # after the last window was written, until promtool was done (`meanwhile` included)
    )


class Backfill:
    """Runs promtool on window files as they arrive, `workers` at a time; `abort` kills what runs."""

    def __init__(self, promtool: str, tsdb_dir: Path, workers: int = 2) -> None:
        self._promtool = find_binary(promtool)
        self._tsdb_dir = tsdb_dir
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="promtool")
        self._futures: list[Future[None]] = []
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._aborted = False

    def submit(self, window: WindowFile) -> None:
        self._futures.append(self._pool.submit(self._run, window))

    def _run(self, window: WindowFile) -> None:
        argv = [self._promtool, "tsdb", "create-blocks-from", "openmetrics", "-q"]
        argv += [str(window.path), str(self._tsdb_dir)]
        with self._lock:
            if self._aborted:
                return
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            self._running.add(proc)
        try:
            stdout, stderr = proc.communicate()
        finally:
            with self._lock:
                self._running.discard(proc)
        if proc.returncode != 0 and not self._aborted:
            message = (stderr or stdout).decode(errors="replace").strip()[-2000:]
            raise PrometheusError(
                f"promtool backfill of {window.path.name} failed (exit {proc.returncode}):\n{message}"
            )
        window.path.unlink(missing_ok=True)

    def wait(self) -> None:
        """Wait for every submitted window; raises the first promtool failure."""
        try:
            for future in self._futures:
                future.result()
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def abort(self) -> None:
        """Stop queued and running promtool processes (a failed or interrupted start)."""
        with self._lock:
            self._aborted = True
            running = list(self._running)
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in running:
            proc.kill()
            proc.wait()


def backfill_world(
    world: World,
    work_dir: Path,
    tsdb_dir: Path,
    promtool: str = "promtool",
    meanwhile: Callable[[], None] | None = None,
) -> BackfillStats:
    """Write the world's metrics as 2h-window OpenMetrics files and backfill them into `tsdb_dir`."""

    def write(submit: Callable[[WindowFile], None]) -> list[WindowFile]:
        return write_windows(world.families, world.timestamps, work_dir, on_written=submit)

    return backfill_windows(write, work_dir, tsdb_dir, promtool, meanwhile)


def backfill_windows(
    write: Callable[[Callable[[WindowFile], None]], list[WindowFile]],
    work_dir: Path,
    tsdb_dir: Path,
    promtool: str = "promtool",
    meanwhile: Callable[[], None] | None = None,
) -> BackfillStats:
    """Backfill into `tsdb_dir` the window files that `write` writes into `work_dir`, each handed to
    promtool (through the callback `write` is given) as soon as it is closed.

    `meanwhile` runs once every window is written, while the last promtool runs still go: other
    work of the caller that would otherwise wait on the critical path.
    """
    tsdb_dir.mkdir(parents=True, exist_ok=True)
    backfill = Backfill(promtool, tsdb_dir)
    try:
        started, started_cpu = time.perf_counter(), time.thread_time()
        windows = write(backfill.submit)
        written, write_cpu_s = time.perf_counter(), time.thread_time() - started_cpu
        if meanwhile is not None:
            meanwhile()
        backfill.wait()
    except BaseException:
        backfill.abort()
        raise
    shutil.rmtree(work_dir, ignore_errors=True)
    return BackfillStats(
        windows=len(windows),
        samples=sum(w.samples for w in windows),
        write_s=written - started,
        write_cpu_s=write_cpu_s,
        backfill_wait_s=time.perf_counter() - written,
    )


def prometheus_signature(tsdb_dir: Path) -> list[str]:
    """What only the Prometheus of this TSDB directory has on its command line."""
    return [f"--storage.tsdb.path={tsdb_dir}"]


def promtool_signature(tsdb_dir: Path) -> list[str]:
    """What only the promtool processes backfilling this TSDB directory have on their command line."""
    return ["create-blocks-from", str(tsdb_dir)]


class PrometheusServer:
    """Prometheus on 127.0.0.1 over an existing TSDB directory, restarted on another port if the free
    port it was given was taken in the meantime."""

    ATTEMPTS = 3

    def __init__(
        self, binary: str, tsdb_dir: Path, log: Path, on_start: Callable[[ProcessRecord], None]
    ) -> None:
        self._binary = find_binary(binary)
        self._tsdb_dir = tsdb_dir
        self._log = log
        self._on_start = on_start
        self.record: ProcessRecord | None = None
        self.url = ""

    def start(self, port: int | None = None) -> None:
        config = self._tsdb_dir.parent / "prometheus.yml"
        config.write_text(_CONFIG)
        port = port or free_port()
        argv = [
            self._binary,
            f"--config.file={config}",
            *prometheus_signature(self._tsdb_dir),
            # Retention counts back from the newest block; keep backfilled history whatever its age.
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
        self._log.unlink(missing_ok=True)  # a fresh log, so a bind error found in it is this attempt's
        self.record = start_detached("prometheus", argv, self._log, prometheus_signature(self._tsdb_dir))
        self.url = f"http://127.0.0.1:{port}"
        self._on_start(self.record)

    def wait_ready(self, query: str, at: datetime, deadline: float) -> None:
        """Until ready with data at `at`; a lost port race restarts it on another port."""
        for attempt in range(1, self.ATTEMPTS + 1):
            assert self.record is not None, "start() first"
            try:
                wait_ready(self.url, self.record, query, at, deadline)
                return
            except ProcessError as exc:
                if not _bind_failed(self.record):
                    raise
                if attempt == self.ATTEMPTS:
                    raise PrometheusError(
                        f"Prometheus could not bind 127.0.0.1 ({self.ATTEMPTS} free ports tried): {exc}"
                    ) from exc
                self.start()


def probe_query(world: World) -> str:
    """A cheap query that must return data at `end` once every block is loaded."""
    for family in world.families:
        for series in family.series:
            if len(series.values) and series.values[-1] == series.values[-1]:  # not NaN
                return f'count({{__name__="{series.name}"}})'
    return 'count({__name__=~".+"})'


def wait_ready(url: str, record: ProcessRecord, query: str, at: datetime, deadline: float) -> None:
    """Until /-/ready is 200 and `query` at the instant `at` returns data."""
    with httpx.Client(base_url=url, timeout=2.0, trust_env=False) as client:  # no proxy for loopback

        def ready() -> bool:
            try:
                if client.get("/-/ready").status_code != 200:
                    return False
                body = client.get("/api/v1/query", params={"query": query, "time": at.timestamp()}).json()
            except (httpx.HTTPError, ValueError):
                return False
            return body.get("status") == "success" and bool(body["data"]["result"])

        wait_until(ready, record, deadline, f"ready with data at {at.isoformat()} ({url})")


def _bind_failed(record: ProcessRecord) -> bool:
    try:
        text = Path(record.log).read_text(errors="replace")
    except FileNotFoundError:
        return False
    return "address already in use" in text
