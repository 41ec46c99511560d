"""The `medic` command line (the README's Commands section).

Errors a user can fix (a bad scenario file, a missing binary) end with a one-line message and a
non-zero exit code, never a traceback. Importing this module is what `medic --help` costs, so it
stays cheap: every command imports the agent, the graph, the plotting and the cluster clients when it
runs (tests/server/test_cli_help.py checks that none of them is imported for help).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from evals.sandbox.sandbox import SandboxConfig
    from server.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="medic: incident response for Kubernetes.")

err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]medic:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def sandbox_config(settings: Settings) -> SandboxConfig:
    from evals.sandbox.sandbox import SandboxConfig

    return SandboxConfig(
        state_dir=settings.sandbox_dir,
        prometheus_bin=settings.prometheus_bin,
        promtool_bin=settings.promtool_bin,
        start_timeout_s=settings.sandbox_start_timeout_s,
    )


def medic_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("medic")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(wanted: bool) -> None:
    if wanted:
        print(f"medic {medic_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    """medic: incident response for Kubernetes."""


def _register() -> None:
    from server.cli_audit import audit_app
    from server.cli_bench import bench_app
    from server.cli_eval import eval_command
    from server.cli_import import import_app
    from server.cli_incident import incident_app
    from server.cli_mcp import mcp_command
    from server.cli_policy import policy_app
    from server.cli_sandbox import sandbox_app
    from server.cli_serve import serve_command
    from server.cli_triage import investigate_command, triage_command
    from server.cli_watch import bench_watch_command, watch_command

    app.command("triage")(triage_command)
    app.command("investigate")(investigate_command)
    app.command("eval")(eval_command)
    app.command("serve")(serve_command)
    app.command("mcp")(mcp_command)
    app.add_typer(sandbox_app, name="sandbox")
    app.add_typer(audit_app, name="audit")
    app.add_typer(bench_app, name="bench")
    app.command("watch")(watch_command)
    bench_app.command("watch")(bench_watch_command)
    app.add_typer(policy_app, name="policy")
    app.add_typer(import_app, name="import")
    app.add_typer(incident_app, name="incident")


_register()


def main() -> None:
    app(prog_name="medic")


if __name__ == "__main__":
    main()
