"""Child processes of the sandbox: started detached, found again by pid, stopped for sure.

The sandbox's servers must outlive the command that started them (`medic sandbox up` returns and the
agent uses them), so they run in their own session. They must also never be orphaned by a failed or
killed start, so every process is recorded the moment it exists and can be recognised later without
trusting the pid alone: a pid is reused by the kernel, so a record also holds the process's start
time and a signature (arguments that only this process has on its command line, e.g. its data
directory). `stop` kills nothing that does not match both.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType

from pydantic import BaseModel

_PROC = Path("/proc")


class SandboxError(Exception):
    """Base of every sandbox failure; each message says what to fix."""


class ProcessError(SandboxError):
    """A child process could not be started, did not become ready, or died; the message says why."""


class ProcessRecord(BaseModel):
    """Enough to find a started process again, from any later process."""

    name: str
    pid: int
    start_ticks: int  # field 22 of /proc/PID/stat: distinguishes a reused pid
    signature: list[str]  # arguments that must all be on its command line
    log: str


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the caller retries if it loses a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start ticks) of a process, None if it does not exist."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def _argv(pid: int) -> list[str]:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def has_signature(argv: Sequence[str], signature: Sequence[str]) -> bool:
    return bool(signature) and all(part in argv for part in signature)


def start_detached(name: str, argv: Sequence[str], log: Path, signature: Sequence[str]) -> ProcessRecord:
    """Start `argv` in a new session (it survives our exit), output appended to `log`."""
    if not has_signature(argv, signature):
        raise ValueError(f"signature {signature} is not part of {name}'s arguments")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise ProcessError(f"could not start {name} ({argv[0]}): {exc}") from exc
    stat = _stat(proc.pid)
    return ProcessRecord(
        name=name, pid=proc.pid, start_ticks=stat[1] if stat else 0, signature=list(signature), log=str(log)
    )


def is_running(record: ProcessRecord) -> bool:
    """True while the recorded process (not another one that reused its pid) is alive."""
    stat = _stat(record.pid)
    if stat is None or stat[0] in ("Z", "X"):
        return False
    return stat[1] == record.start_ticks and has_signature(_argv(record.pid), record.signature)


def find_by_signature(signature: Sequence[str]) -> list[int]:
    """Pids of live processes carrying `signature`: finds a child whose pid was never recorded
    (its parent was killed between starting it and writing it down)."""
    found = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            stat = _stat(int(entry.name))
            if stat and stat[0] not in ("Z", "X") and has_signature(_argv(int(entry.name)), signature):
                found.append(int(entry.name))
    return found


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our own child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _gone(pid: int, start_ticks: int) -> bool:
    _reap(pid)
    stat = _stat(pid)
    return stat is None or stat[0] in ("Z", "X") or stat[1] != start_ticks


def stop_pid(pid: int, start_ticks: int, timeout_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `timeout_s`; returns once the process is gone.

    Signals go through a pidfd opened before the start time is checked, so a pid reused in between
    can never receive them.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        if _gone(pid, start_ticks):
            return
        for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
            try:
                signal.pidfd_send_signal(pidfd, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                if _gone(pid, start_ticks):
                    return
                time.sleep(0.02)
    finally:
        os.close(pidfd)
    raise ProcessError(f"process {pid} survived SIGKILL")


def stop(record: ProcessRecord, timeout_s: float = 5.0) -> bool:
    """Stop the recorded process if it is still ours; returns whether it was running."""
    if not is_running(record):
        _reap(record.pid)
        return False
    stop_pid(record.pid, record.start_ticks, timeout_s)
    return True


def stop_by_signature(signature: Sequence[str], timeout_s: float = 5.0) -> int:
    """Stop every process carrying `signature`; returns how many there were."""
    pids = find_by_signature(signature)
    for pid in pids:
        stat = _stat(pid)
        if stat is not None:
            stop_pid(pid, stat[1], timeout_s)
    return len(pids)


def log_tail(record: ProcessRecord, lines: int = 15) -> str:
    try:
        text = Path(record.log).read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def wait_until(
    ready: Callable[[], bool], record: ProcessRecord, deadline: float, what: str, interval_s: float = 0.05
) -> None:
    """Poll `ready` until it is true; fail fast with the log if the process dies, or at `deadline`
    (a `time.monotonic()` instant)."""
    while True:
        if ready():
            return
        if not is_running(record):
            raise ProcessError(
                f"{record.name} exited before {what}; its log ({record.log}):\n{log_tail(record)}"
            )
        if time.monotonic() >= deadline:
            raise ProcessError(
                f"{record.name} (pid {record.pid}) was not {what} in time; raise start_timeout_s if the "
                f"machine is slow. Its log ({record.log}):\n{log_tail(record)}"
            )
        time.sleep(interval_s)


class Interrupted(SandboxError):
    """SIGTERM, SIGINT or SIGHUP arrived while children were being started; they were stopped."""


@contextlib.contextmanager
def undo_on_failure(undo: Callable[[], None], what: str) -> Iterator[None]:
    """Run `undo` if the block raises or is interrupted: SIGTERM, SIGINT and SIGHUP become an
    `Interrupted` exception meanwhile (in the main thread, the only one that receives signals)."""
    main_thread = threading.current_thread() is threading.main_thread()
    previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(f"interrupted by signal {signal.Signals(signum).name}; {what} was undone")

    if main_thread:
        for caught in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            previous[caught] = signal.signal(caught, interrupted)
    try:
        yield
    except BaseException:
        for ignored in previous:  # a second signal must not cut the undoing short
            signal.signal(ignored, signal.SIG_IGN)
        undo()
        raise
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
