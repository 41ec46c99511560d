"""`medic sandbox up|down`: a scenario's world or a recording behind a real Prometheus and the
Kubernetes emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from server.cli_triage import _settings
from server.progress import e

sandbox_app = typer.Typer(
    no_args_is_help=True, help="Bring the incident sandbox of a scenario or recording up or down."
)
JsonOption = Annotated[bool, typer.Option("--json", help="print the result as JSON")]


@sandbox_app.command("up")
def sandbox_up(
    scenario: Annotated[
        str, typer.Argument(help="a shipped scenario id, a scenario YAML file, or a recording folder")
    ],
    as_json: JsonOption = False,
) -> None:
    """Generate the scenario's telemetry (or read the recording's) and start Prometheus and the
    Kubernetes emulator; a sandbox of the same scenario or recording that is already up is kept."""
    from evals.replayable import LOAD_ERRORS, load_replayable
    from evals.sandbox.sandbox import SandboxError, running, status, up
    from server.cli import err, fail, sandbox_config

    config = sandbox_config(_settings(None))
    try:
        loaded = load_replayable(scenario)
        info = running(loaded, config)
        kept, replaced = info is not None, info is None and status(loaded.id, config) is not None
        if info is None:
            info = up(loaded, config)
    except LOAD_ERRORS as exc:  # also a recording's part, read as it is brought up
        raise fail(str(exc), code=2) from None
    except SandboxError as exc:
        raise fail(str(exc)) from None
    sid = e(loaded.id)
    if kept:
        err.print(
            f"[yellow]the sandbox of {sid} is already up: kept as it is[/] (medic sandbox down {sid} stops it)"
        )
    elif replaced:
        err.print(
            f"[yellow]the {loaded.kind} {sid} changed since its sandbox came up: brought it up again[/]"
        )
    if as_json:
        print(json.dumps(info.model_dump(mode="json")))
        return
    out = Console(soft_wrap=True)
    out.print(f"[bold green]sandbox {'already ' if kept else ''}up[/] for {loaded.kind} [bold]{sid}[/]")
    out.print(f"  Prometheus   {e(info.prometheus_url)}")
    out.print(
        f"  Kubernetes   {e(info.kubernetes_url)}   (kubectl --kubeconfig {e(info.kubeconfig)} get pods -A)"
    )
    out.print(f"  traces       {e(info.traces_dir)}")
    out.print(f"  env file     {e(info.env_file)}   (set -a; . {e(info.env_file)}; set +a)")
    out.print(f"  stop with    medic sandbox down {sid}")


@sandbox_app.command("down")
def sandbox_down(
    scenario: Annotated[
        str | None, typer.Argument(help="the scenario or recording id (or its file or folder) to stop")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="stop every sandbox, a running triage's too")] = False,
    as_json: JsonOption = False,
) -> None:
    """Stop what `sandbox up` started, by pid."""
    from evals.recordings.manifest import is_recording
    from evals.replayable import LOAD_ERRORS, load_replayable
    from evals.sandbox.sandbox import SandboxError, down, down_all
    from server.cli import fail, sandbox_config

    config = sandbox_config(_settings(None))
    bad_name: tuple[type[Exception], ...] = (*LOAD_ERRORS, SandboxError)
    if all_:
        stopped = down_all(config)
    elif scenario is None:
        raise fail("name a scenario or pass --all", code=2)
    else:
        scenario_id = scenario
        try:
            if scenario.endswith((".yaml", ".yml")) or Path(scenario).is_file() or is_recording(scenario):
                scenario_id = load_replayable(scenario).id
            stopped = [scenario_id] if down(scenario_id, config) else []
        except bad_name as exc:
            raise fail(str(exc), code=2) from None
    if as_json:
        print(json.dumps({"stopped": stopped}))
        return
    Console().print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}", markup=False)
