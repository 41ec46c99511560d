"""`medic --help` and `--version` stay cheap: no agent, graph, LLM, plotting or cluster library is
imported to print help (structural, not timed: what is imported is what costs)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEDIC = str(Path(sys.executable).parent / "medic")
HEAVY = (
    "openai",
    "langgraph",
    "langchain_core",
    "matplotlib",
    "numpy",
    "scipy",
    "kubernetes",
    "psycopg",
    "mcp",
    "deepeval",
)

# Renders help the way `medic` does, then reports which heavy top-level packages got imported.
PROBE = """
import json, sys
from typer.testing import CliRunner
from server.cli import app
argv = json.loads(sys.argv[1])
result = CliRunner().invoke(app, argv, prog_name="medic")
assert result.exit_code == 0, result.output
assert "Usage" in result.output, result.output
heavy = json.loads(sys.argv[2])
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & set(heavy))))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["triage", "--help"],
        ["investigate", "--help"],
        ["sandbox", "up", "--help"],
        ["audit", "show", "--help"],
        ["policy", "init", "--help"],
        ["mcp", "--help"],
        ["serve", "--help"],
        ["bench", "mcp", "--help"],
    ],
    ids=" ".join,
)
def test_help_imports_no_heavy_library(argv: list[str]) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), json.dumps(HEAVY)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout.splitlines()[-1]) == []


def test_version_is_the_installed_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [MEDIC, "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"medic {version('medic')}"
