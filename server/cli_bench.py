"""`medic bench`: the benchmarks on public data sets, and the service under load."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from server.cli_triage import _settings

if TYPE_CHECKING:  # the sandbox is imported only when a benchmark runs (--help stays light)
    from evals.sandbox.run_dir import SandboxInfo


class NabHalf(StrEnum):
    """evals.bench.nab.split.Half, spelled again here so --help imports no numpy."""

    TUNE = "tune"
    HELD_OUT = "held-out"
    ALL = "all"


bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks on public data sets and of the service.")


@bench_app.command("nab")
def bench_nab(
    data: Annotated[
        Path, typer.Option(help="the NAB data set folder (with data/, labels/, config/, results/)")
    ],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="write our raw scores in NAB's results layout (with --choose: nab_choice.json)"),
    ] = None,
    split: Annotated[
        NabHalf,
        typer.Option(
            help="score one half of the fixed split by file (tune, held-out) or all files",
        ),
    ] = NabHalf.ALL,
    choose: Annotated[
        bool,
        typer.Option(
            "--choose",
            help="choose the detector's configuration on the tune half; report it and the shipped one on every half",
        ),
    ] = False,
) -> None:
    """Score our anomaly detector and peers on the Numenta Anomaly Benchmark."""
    if choose and split is not NabHalf.ALL:
        raise typer.BadParameter(
            "--choose reports every half itself: leave --split out", param_hint="--split"
        )
    from evals.bench.nab.run import main as nab_main

    argv = ["--data", str(data), *(["--json"] if as_json else []), *(["--out", str(out)] if out else [])]
    argv += ["--split", split.value, *(["--choose"] if choose else [])]
    raise typer.Exit(nab_main(argv))


@bench_app.command("rca")
def bench_rca(
    data: Annotated[Path, typer.Option(help="the data set folder, in its published layout")],
    layout: Annotated[
        str, typer.Option("--format", help="the data set: sockshop | petshop | nezha")
    ] = "sockshop",
    as_json: Annotated[bool, typer.Option("--json")] = False,
    methods: Annotated[
        str | None, typer.Option(help="comma-separated: medic, medic-given, medic-found, baro, traversal")
    ] = None,
    sources: Annotated[
        str, typer.Option(help="comma-separated: metrics, traces, logs")
    ] = "metrics,traces,logs",
    limit: Annotated[int | None, typer.Option(help="only the first N cases and N healthy windows")] = None,
) -> None:
    """Rank root causes on public fault data (Sock Shop, PetShop, Nezha), beside BARO and the published baselines."""
    from evals.bench.rca.run import main as rca_main

    argv = ["--data", str(data), "--format", layout, "--sources", sources, *(["--json"] if as_json else [])]
    argv += [*(["--methods", methods] if methods else []), *(["--limit", str(limit)] if limit else [])]
    raise typer.Exit(rca_main(argv))


def sandbox_backends(info: SandboxInfo) -> dict[str, str]:
    """The settings that point a `medic serve` process at a sandbox's backends."""
    return {
        "MEDIC_PROMETHEUS_URL": info.prometheus_url,
        "MEDIC_KUBECONFIG": str(info.kubeconfig),
        "MEDIC_TRACES_BACKEND": "otlp-file",
        "MEDIC_TRACES_DIR": str(info.traces_dir),
    }


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
    from server.cli import sandbox_config

    result = bench(database_url, users, seconds)
    print(result.model_dump_json(indent=2))
    if in_flight:
        scenario = load_scenario("checkout-bad-deploy")
        config = sandbox_config(_settings(None))
        info = up(scenario, config)
        try:
            backends = sandbox_backends(info)
            assert scenario.alert is not None
            alert = {
                "labels": scenario.alert.labels,
                "startsAt": scenario.at(scenario.alert.starts_at).isoformat(),
            }
            print(memory_in_flight(backends, alert, in_flight).model_dump_json(indent=2))
        finally:
            down(scenario.id, config)


@bench_app.command("slack")
def bench_slack_command(
    concurrency: Annotated[
        int, typer.Option(min=1, max=500, help="signed commands sent at the same instant")
    ] = 50,
    bursts: Annotated[int, typer.Option(min=1, help="bursts per run")] = 10,
    runs: Annotated[int, typer.Option(min=1, max=20, help="runs; the summary is their median")] = 3,
) -> None:
    """Slash-command acknowledgement latency (p50, p99) of `medic serve` under bursts of signed commands."""
    from server.bench.slack import bench_slack

    print(bench_slack(concurrency, bursts, runs).model_dump_json(indent=2))


@bench_app.command("mcp")
def bench_mcp_command(
    calls: Annotated[int, typer.Option(min=10, help="calls of each kind per run")] = 200,
    runs: Annotated[int, typer.Option(min=1, help="measurement runs (the medians are reported)")] = 3,
) -> None:
    """MCP over HTTP on the sandbox: tools/list and one read tool call (golden_signals), p50/p99."""
    from pydantic import JsonValue

    from evals.sandbox.sandbox import down, up
    from evals.scenario import load_scenario
    from server.bench.mcp import bench_mcp
    from server.cli import sandbox_config

    scenario = load_scenario("checkout-bad-deploy")
    config = sandbox_config(_settings(None))
    info = up(scenario, config)
    try:
        backends = sandbox_backends(info)
        service = scenario.alert.labels.get("service", "frontend") if scenario.alert else "frontend"
        arguments: dict[str, JsonValue] = {
            "service": service,
            "namespace": scenario.topology.namespace,
            "as_of": scenario.end_utc.isoformat(),
        }
        print(bench_mcp(backends, "golden_signals", arguments, calls, runs).model_dump_json(indent=2))
    finally:
        down(scenario.id, config)
