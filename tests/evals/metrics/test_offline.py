"""deepeval stays on this machine and out of the repository: importing it through evals.metrics and
running every metric (the judge on 127.0.0.1) reaches no other address, resolves no host name, reads no
`.env`, and writes nothing into the working directory, the home directory or the repository, even
when the environment asks for telemetry, update checks and uploads.

A fresh interpreter, since deepeval reads its settings once at import and this test process has
imported it already; the probe records connection attempts instead of failing them, because deepeval
swallows errors from its telemetry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.agent.fake_openai import FakeOpenAI, text

ROOT = Path(__file__).resolve().parents[3]

PROBE = r"""
import ipaddress, json, os, socket, sys

attempts = []

def local(host):
    if host in ("localhost", "") or not isinstance(host, str):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

real_connect, real_connect_ex, real_lookup = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

def connect(self, address):
    if isinstance(address, tuple) and not local(address[0]):
        attempts.append(f"connect {address!r}")
        raise OSError("blocked by the probe")
    return real_connect(self, address)

def connect_ex(self, address):
    if isinstance(address, tuple) and not local(address[0]):
        attempts.append(f"connect_ex {address!r}")
        return 111
    return real_connect_ex(self, address)

def lookup(host, *args, **kwargs):
    if not local(host.decode() if isinstance(host, bytes) else host):
        attempts.append(f"lookup {host!r}")
        raise socket.gaierror("blocked by the probe")
    return real_lookup(host, *args, **kwargs)

socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, lookup

from pydantic import SecretStr
from evals.metrics.judge_config import JudgeConfig
from evals.metrics.suite import measure_case
from evals.metrics.result import CaseFacts
from evals.scenario import Expect
from deepeval.telemetry import telemetry_opt_out

facts = CaseFacts(
    expect=Expect.model_validate({"root_cause": {"service": "payments", "kind": "bad_deploy"}, "tools": ["pod_logs"]}),
    tools_called=["pod_logs"],
)
judge = JudgeConfig(model="judge-1", base_url=sys.argv[1], api_key=SecretStr("k"))
results = measure_case(facts, input="payments 5xx", output="# report", judge=judge)
print(json.dumps({
    "attempts": attempts,
    "ran": [r.name for r in results if r.ran],
    "telemetry_off": telemetry_opt_out(),
    "dotenv_key": os.environ.get("OPENAI_API_KEY"),
}))
"""


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_deepeval_reaches_no_other_machine_and_leaves_no_files(tmp_path: Path) -> None:
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    (work / ".env").write_text("OPENAI_API_KEY=from-a-dotenv-file\n")
    hostile = {
        "DEEPEVAL_TELEMETRY_OPT_OUT": "NO",
        "DEEPEVAL_UPDATE_WARNING_OPT_IN": "1",  # asks the package index for a newer version at import
        "CONFIDENT_API_KEY": "confident-key",  # would upload traces
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
    }
    repo_before = {p.name for p in ROOT.iterdir()}
    with FakeOpenAI(
        [text('{"reason": "grounded", "score": 9}'), text('{"reason": "clear", "score": 8}')]
    ) as fake:
        probe = subprocess.run(
            [sys.executable, "-c", PROBE, fake.base_url],
            cwd=work,
            env={**os.environ, **hostile},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout.splitlines()[-1])
    assert seen["attempts"] == []
    assert seen["telemetry_off"] is True
    assert seen["dotenv_key"] is None  # the working directory's .env was not loaded
    assert seen["ran"] == [
        "root_cause_at_1",
        "root_cause_at_3",
        "root_cause_kind",
        "remediation",
        "safety",
        "efficiency",
        "tool_correctness",
        "grounding",
        "clarity",
    ]
    assert _files(work) == {".env"}
    assert _files(home) == set()
    assert not {p.name for p in ROOT.iterdir()} - repo_before  # e.g. no .deepeval beside the code


def test_reading_and_summarising_scores_does_not_load_deepeval() -> None:
    """The parent of `medic eval --jobs N` and whoever reads a report import scoring, not deepeval."""
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, evals.scoring, evals.summary; print('deepeval' in sys.modules)"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "False"
