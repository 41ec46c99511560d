"""The process contract the sandbox orchestrator relies on: `python -m evals.sandbox.kube` writes
READY.json once it serves, stops cleanly on SIGTERM, and refuses a bad state with exit code 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.evals.sandbox.kube_world import NS, small_world

REPO = Path(__file__).resolve().parents[3]


def _spawn(state: Path, ready: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "evals.sandbox.kube", "--state", str(state), "--ready-file", str(ready)]
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_process_serves_until_sigterm(tmp_path: Path) -> None:
    state, ready = tmp_path / "state.json", tmp_path / "run" / "ready.json"
    state.write_text(small_world().model_dump_json())
    process = _spawn(state, ready)
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "READY.json was not written within 20 s"
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        assert info["pid"] == process.pid and info["url"].startswith("http://127.0.0.1:")
        pods = httpx.get(f"{info['url']}/api/v1/namespaces/{NS}/pods", timeout=5).json()
        assert len(pods["items"]) == 3
        os.kill(info["pid"], signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def test_bad_state_exits_2_with_one_line(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps({"objects": [{"apiVersion": "v1", "kind": "Gadget", "metadata": {"name": "x"}}]})
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "evals.sandbox.kube",
            "--state",
            str(state),
            "--ready-file",
            str(tmp_path / "r.json"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Gadget" in result.stderr
    assert not (tmp_path / "r.json").exists()
    state.write_text("{not json")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "evals.sandbox.kube",
            "--state",
            str(state),
            "--ready-file",
            str(tmp_path / "r.json"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
