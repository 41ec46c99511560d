"""Docs that match the tool: the README's commands exist with the options it lists, every message and
help text points inside the repository, and every variable the sandbox's env file sets is a setting."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from server.cli import app
from server.settings import Settings, load_settings
from tests.sandbox_fixture import SandboxPool
from tests.server.medic_process import ROOT, env_file_values

PACKAGES = ("tools", "policies", "agent", "evals", "server")
OUTSIDE = re.compile(r"DESIGN|\.\./")  # the design notes and anything beside the repository
COMMAND_WORD = r"[a-z0-9][a-z0-9-]*(\\\|[a-z0-9][a-z0-9-]*)*"  # `triage`, `up\|down` (not `--json`, `FILE`)


def _help(words: list[str]) -> str:
    result = CliRunner().invoke(app, [*words, "--help"], prog_name="medic", terminal_width=200)
    assert result.exit_code == 0, f"medic {' '.join(words)}: {result.output}"
    return result.output


def _readme_commands() -> list[tuple[list[list[str]], list[str]]]:
    """Each row of the README's command table: the command paths it names, and the options."""
    rows = []
    for line in (ROOT / "README.md").read_text().splitlines():
        if not line.startswith("| `medic"):
            continue
        cell = line.split(" | ")[0]
        paths = []
        for span in re.findall(r"`medic ([^`]*)`", cell):
            words = list(itertools.takewhile(lambda w: re.fullmatch(COMMAND_WORD, w), span.split()))
            paths += [list(p) for p in itertools.product(*(w.split("\\|") for w in words))]
        rows.append((paths, re.findall(r"--[a-z0-9-]+", cell)))
    return rows


def test_the_readme_commands_exist_with_the_options_it_lists() -> None:
    rows = _readme_commands()
    assert len(rows) >= 7
    for paths, options in rows:
        helps = [_help(path) for path in paths]
        for option in options:
            assert any(re.search(rf"{option}\b", text) for text in helps), f"{paths}: no {option}"


def _strings_said_to_users(path: Path) -> list[tuple[int, str]]:
    """String literals that are not docstrings (docstrings of commands are checked through --help)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_messages_help_and_readme_point_inside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text[:80]!r}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, text in _strings_said_to_users(path)
        if OUTSIDE.search(text)
    ]
    assert offenders == []
    for paths, _ in _readme_commands():
        for path in paths:
            assert not OUTSIDE.search(_help(path)), f"medic {' '.join(path)} --help"
    readme = (ROOT / "README.md").read_text()
    assert not OUTSIDE.search(readme)
    for link in re.findall(r"\]\(([^)#]+)\)", readme):
        if not link.startswith("http"):
            assert (ROOT / link).is_file(), f"README links {link}, which is not in the repository"


@pytest.mark.sandbox
def test_every_variable_of_the_sandbox_env_file_is_a_setting(
    sandbox_pool: SandboxPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, info = sandbox_pool.get("checkout-bad-deploy")
    values = env_file_values(info.env_file)
    assert values, "the env file sets the backends"
    unread = [name for name in values if name.removeprefix("MEDIC_").lower() not in Settings.model_fields]
    assert unread == [], "the sandbox writes variables medic never reads"
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.prometheus_url == info.prometheus_url
    assert settings.kubeconfig == info.kubeconfig
    assert settings.traces_dir == info.traces_dir
