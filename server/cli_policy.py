"""`medic policy init`: a copy of the shipped policy to edit, e.g. to switch it to enforce mode."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from server.progress import e

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
policy_app = typer.Typer(no_args_is_help=True, help="The policy: what may run, in which mode, who approves.")

HEADER = """\
# Written by `medic policy init`. medic reads it once MEDIC_POLICY_FILE points here.
# To execute approved actions for real, change `mode: dry_run` below to `mode: enforce`; approvers
# need a role the rules ask for: an API token's roles (medic serve) or a Slack user's mapped roles
# (in the sandbox, `medic triage` grants MEDIC_APPROVER_ROLES). See the README, "Enforce mode".
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
    out.print("  approve     over medic serve's API with a token holding a role the rules ask for")
    out.print("  where       medic policy rbac --namespace NS ... binds the act identity where it may act")


ROLE_BINDING = """\
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: medic-act
  namespace: {namespace}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: medic-act}}
subjects:
  - {{kind: ServiceAccount, name: medic-act, namespace: {medic_namespace}}}
"""


@policy_app.command("rbac")
def policy_rbac(
    namespace: Annotated[list[str], typer.Option("--namespace", "-n", help="a namespace medic may act in")],
    policy: Annotated[
        Path | None, typer.Option(help="the policy file (default: MEDIC_POLICY_FILE or shipped)")
    ] = None,
    medic_namespace: Annotated[str, typer.Option(help="where medic runs")] = "medic",
) -> None:
    """Print the RoleBindings that let the act identity write in NAMESPACEs: one per namespace, none
    in a namespace the policy protects (the API server then refuses what the policy forbids)."""
    from policies.loader import PolicyError, load_default_policy, load_policy
    from server.cli import fail
    from server.cli_triage import _settings

    source = policy or _settings(None).policy_file
    try:
        loaded = load_policy(source) if source else load_default_policy()
    except (OSError, PolicyError) as exc:
        raise fail(f"cannot read the policy: {exc}", code=2) from None
    protected = [ns for ns in namespace if loaded.is_protected(ns)]
    if protected:
        raise fail(f"the policy protects {', '.join(protected)}: medic may never act there", code=2)
    bad = [ns for ns in namespace if not _DNS_LABEL.fullmatch(ns)]
    if bad:
        raise fail(f"not a namespace name: {', '.join(bad)}", code=2)
    for ns in dict.fromkeys(namespace):
        print(ROLE_BINDING.format(namespace=ns, medic_namespace=medic_namespace), end="")
