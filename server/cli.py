"""The `medic` command line (DESIGN §3.9).

Errors a user can fix (a bad scenario file, a missing binary) end with a one-line message and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from server.settings import Settings, load_settings

if TYPE_CHECKING:
    from evals.sandbox.sandbox import SandboxConfig

app = typer.Typer(no_args_is_help=True, add_completion=False, help="medic: incident response for Kubernetes.")
sandbox_app = typer.Typer(no_args_is_help=True, help="Bring the incident sandbox of a scenario up or down.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks on public data sets.")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(bench_app, name="bench")

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


@sandbox_app.command("up")
def sandbox_up(
    scenario: Annotated[str, typer.Argument(help="a shipped scenario id or a scenario YAML file")],
    as_json: Annotated[bool, typer.Option("--json", help="print the endpoints as JSON")] = False,
) -> None:
    """Generate the scenario's telemetry and start Prometheus and the Kubernetes emulator."""
    from evals.sandbox.sandbox import SandboxError, up
    from evals.scenario import ScenarioError

    settings = load_settings()
    try:
        info = up(scenario, sandbox_config(settings))
    except ScenarioError as exc:
        raise fail(str(exc), code=2) from None
    except SandboxError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(info.model_dump(mode="json")))
        return
    out = Console(soft_wrap=True)
    out.print(f"[bold green]sandbox up[/] for scenario [bold]{scenario}[/]")
    out.print(f"  Prometheus   {info.prometheus_url}")
    out.print(f"  Kubernetes   {info.kubernetes_url}   (kubectl --kubeconfig {info.kubeconfig} get pods -A)")
    out.print(f"  traces       {info.traces_dir}")
    out.print(f"  env file     {info.env_file}   (set -a; . {info.env_file}; set +a)")
    out.print(f"  stop with    medic sandbox down {scenario}")


@sandbox_app.command("down")
def sandbox_down(
    scenario: Annotated[str | None, typer.Argument(help="the scenario id (or file) to stop")] = None,
    all_: Annotated[bool, typer.Option("--all", help="stop every sandbox")] = False,
) -> None:
    """Stop what `sandbox up` started, by pid."""
    from evals.sandbox.sandbox import down, down_all
    from evals.scenario import ScenarioError, load_scenario

    config = sandbox_config(load_settings())
    if all_:
        stopped = down_all(config)
    elif scenario is None:
        raise fail("name a scenario or pass --all", code=2)
    else:
        scenario_id = scenario
        if scenario.endswith((".yaml", ".yml")) or Path(scenario).is_file():
            try:
                scenario_id = load_scenario(scenario).id
            except ScenarioError as exc:
                raise fail(str(exc), code=2) from None
        stopped = [scenario_id] if down(scenario_id, config) else []
    Console().print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@bench_app.command("nab")
def bench_nab(
    data: Annotated[
        Path, typer.Option(help="the NAB data set folder (with data/, labels/, config/, results/)")
    ],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    out: Annotated[Path | None, typer.Option(help="write our raw scores in NAB's results layout")] = None,
) -> None:
    """Score our anomaly detector and peers on the Numenta Anomaly Benchmark."""
    from evals.bench.nab.run import main as nab_main

    argv = ["--data", str(data), *(["--json"] if as_json else []), *(["--out", str(out)] if out else [])]
    raise typer.Exit(nab_main(argv))


@bench_app.command("rca")
def bench_rca(
    data: Annotated[Path, typer.Option(help="the Sock Shop RCA cases folder")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Rank root causes on the Sock Shop fault cases, beside BARO."""
    from evals.bench.rca.run import main as rca_main

    raise typer.Exit(rca_main(["--data", str(data), *(["--json"] if as_json else [])]))


@bench_app.command("service")
def bench_service(
    database_url: Annotated[str | None, typer.Option(help="postgresql://… (default: SQLite)")] = None,
    users: Annotated[int, typer.Option(min=1, help="concurrent senders")] = 50,
    seconds: Annotated[int, typer.Option(min=5, help="length of each load")] = 20,
    in_flight: Annotated[int, typer.Option(min=0, help="investigations at once for the memory run")] = 20,
) -> None:
    """The service under load (Alertmanager intake, incident reads) and its memory."""
    from evals.sandbox.sandbox import down, up
    from evals.scenario import load_scenario
    from server.bench.service import bench, memory_in_flight

    result = bench(database_url, users, seconds)
    print(result.model_dump_json(indent=2))
    if in_flight:
        scenario = load_scenario("checkout-bad-deploy")
        config = sandbox_config(load_settings())
        info = up(scenario, config)
        try:
            backends = {
                "MEDIC_PROMETHEUS_URL": info.prometheus_url,
                "MEDIC_KUBECONFIG": str(info.kubeconfig),
                "MEDIC_TRACES_BACKEND": "otlp-file",
                "MEDIC_TRACES_DIR": str(info.traces_dir),
            }
            assert scenario.alert is not None
            alert = {
                "labels": scenario.alert.labels,
                "startsAt": scenario.at(scenario.alert.starts_at).isoformat(),
            }
            print(memory_in_flight(backends, alert, in_flight).model_dump_json(indent=2))
        finally:
            down(scenario.id, config)


def _register() -> None:
    from server.cli_eval import audit_app, eval_command
    from server.cli_serve import serve_command
    from server.cli_triage import investigate_command, triage_command

    app.command("triage")(triage_command)
    app.command("investigate")(investigate_command)
    app.command("eval")(eval_command)
    app.command("serve")(serve_command)
    app.add_typer(audit_app, name="audit")


_register()


def main() -> None:
    app(prog_name="medic")


if __name__ == "__main__":
    main()
