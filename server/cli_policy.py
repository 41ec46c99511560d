"""`medic policy init`: a copy of the shipped policy to edit, e.g. to switch it to enforce mode."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from server.progress import e

policy_app = typer.Typer(no_args_is_help=True, help="The policy: what may run, in which mode, who approves.")

HEADER = """\
# Written by `medic policy init`. medic reads it once MEDIC_POLICY_FILE points here.
# To execute approved actions for real, change `mode: dry_run` below to `mode: enforce`; approvers
# need a role the rules ask for (from this CLI: MEDIC_APPROVER_ROLES). See the README, "Enforce mode".
#
"""


@policy_app.command("init")
def policy_init(
    path: Annotated[Path, typer.Argument(help="where to write it")] = Path("medic-policy.yaml"),
    force: Annotated[bool, typer.Option("--force", help="overwrite a file that exists")] = False,
) -> None:
    """Write the shipped policy (dry_run mode, every rule commented) to PATH, to edit."""
    from policies.loader import DEFAULT_POLICY_PATH, PolicyError, parse_policy
    from server.cli import fail

    if path.is_dir():
        raise fail(f"{path} is a folder; name the policy file to write", code=2)
    if path.exists() and not force:
        raise fail(f"{path} exists; pass --force to overwrite it", code=2)
    text = HEADER + DEFAULT_POLICY_PATH.read_text()
    try:
        parse_policy(text, source=str(path))  # what is written must load as it is
        path.write_text(text)
    except (OSError, PolicyError) as exc:
        raise fail(f"cannot write {path}: {exc}") from None
    out = Console(soft_wrap=True)
    out.print(f"wrote {e(path)}: the shipped policy, in dry_run mode")
    out.print(f"  use it      export MEDIC_POLICY_FILE={e(path.resolve())}")
    out.print("  enforce     set `mode: enforce` in it; approvals then decide what runs")
    out.print(
        "  approve     export MEDIC_APPROVER_ROLES='[\"sre\"]' grants this CLI a role the rules ask for"
    )
