"""The design rules that keep medic safe by construction, checked on the code itself (DESIGN §2, §3.4)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tools", "policies", "agent", "server", "evals")
MUTATING_CALLS = ("create_", "patch_", "replace_", "delete_")


def test_only_the_guard_imports_the_action_executor() -> None:
    graph = grimp.build_graph(*PACKAGES)
    importers = graph.find_modules_that_directly_import("tools.actions")
    assert importers == {"policies.guard"}


def test_only_the_executor_sends_mutating_kubernetes_requests() -> None:
    """Outside tools/actions.py, no code calls a mutating method of a Kubernetes API client."""
    offenders = []
    for package in ("tools", "policies", "agent", "server"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "tools" / "actions.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr.startswith(MUTATING_CALLS)
                    and ("namespaced" in node.attr or node.attr.endswith(("_node", "_namespace")))
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}")
    assert not offenders, offenders


# server/settings.py reads medic's settings; evals/deepeval_env.py only switches a library's telemetry and
# files off in the process before it is imported (deepeval reads its own variables at import).
ENVIRONMENT_READERS = {ROOT / "server" / "settings.py", ROOT / "evals" / "deepeval_env.py"}


def test_only_settings_read_the_environment() -> None:
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            if ("os.environ" in text or "os.getenv" in text) and path not in ENVIRONMENT_READERS:
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"only server/settings.py reads the environment: {offenders}"
