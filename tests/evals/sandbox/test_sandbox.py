"""`up`/`down` with the real simulator, Prometheus and emulator, including starts that are killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kubernetes import client, config

from evals.sandbox import processes
from evals.sandbox.prometheus import PrometheusError
from evals.sandbox.sandbox import SandboxConfig, down, down_all, status, up

pytestmark = pytest.mark.sandbox

SCENARIO = "checkout-bad-deploy"  # online-boutique, 6h at 15s, end 2026-03-02T14:00:00Z
END = "2026-03-02T14:00:00Z"
REPO = Path(__file__).resolve().parents[3]


def _processes_under(state_dir: Path) -> list[int]:
    """Live processes (other than this one) with anything under `state_dir` on their command line."""
    mark = str(state_dir)
    found = []
    for pid in _all_pids():
        try:
            argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace")
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if mark in argv and state != "Z" and pid != os.getpid():
            found.append(pid)
    return found


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


@pytest.fixture
def sandbox_config(tmp_path: Path) -> Iterator[SandboxConfig]:
    config = SandboxConfig(state_dir=tmp_path / "state", start_timeout_s=90)
    yield config
    down_all(config)
    assert _processes_under(config.state_dir) == []


def test_up_serves_the_scenario_and_down_stops_it(sandbox_config: SandboxConfig) -> None:
    info = up(SCENARIO, sandbox_config)

    with httpx.Client(base_url=info.prometheus_url, timeout=10) as prom:
        total = prom.get(
            "/api/v1/query", params={"query": "sum(http_server_request_duration_seconds_count)", "time": END}
        ).json()
        assert float(total["data"]["result"][0]["value"][1]) > 0
        ranged = prom.get(
            "/api/v1/query_range",
            params={
                "query": "sum(http_server_request_duration_seconds_count)",
                "start": "2026-03-02T08:00:00Z",
                "end": END,
                "step": "15s",
            },
        ).json()
        assert len(ranged["data"]["result"][0]["values"]) == 6 * 240 + 1

    api = client.CoreV1Api(config.new_client_from_config(config_file=str(info.kubeconfig)))
    pods = api.list_namespaced_pod("boutique").items
    assert any(str(p.metadata and p.metadata.name).startswith("checkoutservice-") for p in pods)

    lines = info.env_file.read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if not line.startswith("#"))
    assert env == {
        "MEDIC_PROMETHEUS_URL": info.prometheus_url,
        "MEDIC_KUBECONFIG": str(info.kubeconfig),
        "MEDIC_TRACES_BACKEND": "otlp-file",
        "MEDIC_TRACES_DIR": str(info.traces_dir),
    }
    assert END in lines[0], "the comment says when the scenario's telemetry ends"
    assert (info.traces_dir / "traces.jsonl").is_file()

    run_dir = sandbox_config.state_dir.resolve() / SCENARIO
    state = json.loads((run_dir / "state.json").read_text())
    first = [processes.ProcessRecord.model_validate(p) for p in state["processes"]]
    assert sorted(p.name for p in first) == ["kube-emulator", "prometheus"]
    assert all(processes.is_running(p) for p in first)
    assert status(SCENARIO, sandbox_config) == info

    again = up(SCENARIO, sandbox_config)  # already up: brought down first, then up again
    assert not any(processes.is_running(p) for p in first)
    assert httpx.get(f"{again.prometheus_url}/-/ready").status_code == 200

    assert down(SCENARIO, sandbox_config) is True
    assert _processes_under(sandbox_config.state_dir) == []
    assert not run_dir.exists()
    assert status(SCENARIO, sandbox_config) is None
    assert down(SCENARIO, sandbox_config) is False  # idempotent


def _start_up_in_subprocess(tmp_path: Path, state_dir: Path) -> subprocess.Popen[bytes]:
    """`up` in a child Python; the state dir is in the script, not on its command line."""
    script = tmp_path / "runner.py"
    script.write_text(
        "from pathlib import Path\n"
        "from evals.sandbox.sandbox import SandboxConfig, up\n"
        f"up({SCENARIO!r}, SandboxConfig(state_dir=Path({str(state_dir)!r}), start_timeout_s=90))\n"
    )
    return subprocess.Popen([sys.executable, str(script)], cwd=REPO, stderr=subprocess.PIPE)


def _wait_for_record(state_dir: Path, name: str, parent: subprocess.Popen[bytes]) -> None:
    state_file = state_dir / SCENARIO / "state.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and parent.poll() is None:
        try:
            if any(p["name"] == name for p in json.loads(state_file.read_text())["processes"]):
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise AssertionError(f"{name} was never recorded (parent exit code {parent.poll()})")


def test_children_outlive_a_normal_exit(tmp_path: Path, sandbox_config: SandboxConfig) -> None:
    parent = _start_up_in_subprocess(tmp_path, sandbox_config.state_dir)
    _, stderr = parent.communicate(timeout=180)
    assert parent.returncode == 0, stderr.decode()

    info = status(SCENARIO, sandbox_config)
    assert info is not None
    assert httpx.get(f"{info.prometheus_url}/-/ready").status_code == 200
    assert httpx.get(f"{info.kubernetes_url}/api/v1/namespaces/boutique/pods").status_code == 200
    assert down(SCENARIO, sandbox_config) is True
    assert _processes_under(sandbox_config.state_dir) == []


def test_sigterm_mid_start_stops_every_child(tmp_path: Path, sandbox_config: SandboxConfig) -> None:
    parent = _start_up_in_subprocess(tmp_path, sandbox_config.state_dir)
    _wait_for_record(sandbox_config.state_dir, "kube-emulator", parent)  # now backfilling
    parent.send_signal(signal.SIGTERM)
    _, stderr = parent.communicate(timeout=60)

    assert parent.returncode != 0
    assert b"interrupted by signal SIGTERM" in stderr
    assert _processes_under(sandbox_config.state_dir) == []  # emulator and promtool included


def test_sigkill_mid_start_is_reaped_by_the_next_down(tmp_path: Path, sandbox_config: SandboxConfig) -> None:
    parent = _start_up_in_subprocess(tmp_path, sandbox_config.state_dir)
    _wait_for_record(sandbox_config.state_dir, "prometheus", parent)
    parent.kill()
    parent.wait(timeout=30)
    assert _processes_under(sandbox_config.state_dir) != []  # a killed parent cannot clean up

    assert down(SCENARIO, sandbox_config) is True
    assert _processes_under(sandbox_config.state_dir) == []


def test_missing_prometheus_fails_before_anything_starts(sandbox_config: SandboxConfig) -> None:
    broken = sandbox_config.model_copy(update={"prometheus_bin": "/nonexistent/prometheus"})
    with pytest.raises(PrometheusError, match=r"install Debian's prometheus package"):
        up(SCENARIO, broken)
    assert not (sandbox_config.state_dir / SCENARIO).exists()


def test_a_reused_pid_is_never_killed(tmp_path: Path) -> None:
    marker = str(tmp_path / "sleeper")
    record = processes.start_detached(
        "sleeper", [sys.executable, "-c", "import time; time.sleep(30)", marker], tmp_path / "s.log", [marker]
    )
    try:
        impostor = record.model_copy(update={"start_ticks": record.start_ticks + 1})
        assert processes.stop(impostor) is False  # same pid, different process start: not ours
        other = record.model_copy(update={"signature": ["something-else"]})
        assert processes.stop(other) is False
        assert processes.is_running(record)
    finally:
        assert processes.stop(record) is True
    assert not processes.is_running(record)
