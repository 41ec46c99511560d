"""`python -m evals.sandbox.kube --state STATE.json --ready-file READY.json [--host H] [--port P]`

Serves the state until SIGTERM or SIGINT (exit 0). READY.json = {"url", "pid"} is written atomically
once requests are served; a bad state file exits with code 2 and a one-line message on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from evals.sandbox.kube.runner import serve
from evals.sandbox.kube.state import KubeState, StateError, build_store, load_state_file


def _write_atomically(path: Path, payload: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(tmp, path)


async def _run(state: KubeState, host: str, port: int, ready_file: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with serve(state, host, port) as running:
        _write_atomically(ready_file, {"url": running.url, "pid": os.getpid()})
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.sandbox.kube", description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, required=True, help="STATE.json: objects and pod logs")
    parser.add_argument("--ready-file", type=Path, required=True, help="written with the URL once serving")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    try:
        state = load_state_file(args.state)
        build_store(state)  # refuse an inconsistent state before binding anything
    except StateError as exc:
        print(f"kube emulator: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    try:
        asyncio.run(_run(state, args.host, args.port, args.ready_file))
    except OSError as exc:  # the port is taken, the ready file cannot be written...
        print(f"kube emulator: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
