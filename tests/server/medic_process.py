"""`medic` run as a user runs it: a real process in a folder of its own, with a clean environment."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEDIC = str(Path(sys.executable).parent / "medic")


def medic(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """Runs `medic ARGS` with no terminal on stdin (as in CI), only PATH and HOME set besides `env`."""
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(
        [MEDIC, *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def env_file_values(path: Path) -> dict[str, str]:
    """The variables of an env file as `source` would set them (comments skipped, quotes removed)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key] = "".join(shlex.split(value))
    return values
