"""`medic watch`: the detection loop, live or replaying a scenario; `medic bench watch`: its numbers.

Imports stay inside the commands (`medic --help` must stay cheap).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from server.cli_triage import _settings

if TYPE_CHECKING:
    from server.settings import Settings
    from server.watch.config import WatchConfig
    from server.watch.detection import Detection

Emit = Callable[["Detection"], None]


def watch_command(
    scenario: Annotated[
        str | None, typer.Option(help="replay this scenario (id or file) in simulated time instead of live")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per incident and line")] = False,
    step: Annotated[
        float | None, typer.Option(help="seconds between steps (live; default MEDIC_WATCH_STEP_S)")
    ] = None,
    steps: Annotated[int | None, typer.Option(help="stop after this many steps (live)")] = None,
) -> None:
    """Watch the golden signals and saturation of every service and print each incident medic would
    open ahead of the pager (the same loop `medic serve` runs, there opening them as incidents)."""
    from server.cli import fail

    if step is not None and not 1 <= step <= 3600:
        raise fail(f"--step {step:g}: give the seconds between two steps, from 1 to 3600")
    if steps is not None and steps < 1:
        raise fail(f"--steps {steps}: give a positive number of steps")
    settings = _settings(None)
    config = settings.watch_config()
    if step is not None:
        config = config.model_copy(update={"step_s": step})
    emit = _printer(as_json)
    if scenario is not None:
        _replay(scenario, settings, config, emit)
        return
    _live(settings, config, emit, steps)


def _printer(as_json: bool) -> Emit:
    def emit(detection: Detection) -> None:
        if as_json:
            print(json.dumps(detection.line()), flush=True)
        else:
            line = detection.line()
            print(f"{line['opened_at']}  {line['service']}  {line['kind']}  {line['reason']}", flush=True)

    return emit


def _replay(ref: str, settings: Settings, config: WatchConfig, emit: Emit) -> None:
    from agent.runbook import RunbookError, load_runbook
    from evals.sandbox.processes import SandboxError
    from evals.scenario import ScenarioError, load_scenario
    from server.cli import fail, sandbox_config
    from server.watch.replay import replay, sandbox_dir
    from tools.errors import ToolError

    try:
        case = load_scenario(ref)
        runbook = load_runbook(settings.runbook_file)
    except (ScenarioError, RunbookError) as exc:
        raise fail(str(exc)) from None
    sandbox = sandbox_config(settings)
    sandbox = sandbox.model_copy(update={"state_dir": sandbox_dir(settings.state_dir)})
    try:
        result = replay(case, config, sandbox, runbook=runbook, timeout_s=settings.timeout_s)
    except (SandboxError, ToolError) as exc:
        raise fail(f"the replay of {case.id} failed: {exc}") from None
    for detection in result.detections:
        emit(detection)


def _live(settings: Settings, config: WatchConfig, emit: Emit, steps: int | None) -> None:
    import time
    from datetime import UTC, datetime

    from agent.runbook import load_runbook
    from server.cli import err, fail
    from server.watch.loop import WatchLoop
    from server.watch.store import Afresh, FileStateStore
    from tools.errors import ToolError
    from tools.metrics.client import SETTING, PrometheusBackend

    if not settings.prometheus_url:
        raise fail(f"no Prometheus to watch: set {SETTING} (or replay one with --scenario ID)")
    backend = PrometheusBackend(settings.prometheus_url, settings.timeout_s)
    store = FileStateStore(settings.state_dir / "watch")
    runbook = load_runbook(settings.runbook_file)
    try:
        loop = WatchLoop(config, backend, store, runbook=runbook)
    except ValueError as exc:  # another version's or a damaged checkpoint: relearn, as `medic serve` does
        err.print(f"medic watch: {exc}; starting afresh (the next checkpoint replaces it)", highlight=False)
        loop = WatchLoop(config, backend, Afresh(store), runbook=runbook)
    done = 0
    try:
        while steps is None or done < steps:
            started = time.monotonic()
            try:
                for detection in loop.run_step(datetime.now(UTC)):
                    emit(detection)
            except ToolError as exc:  # one failed read skips a step; the loop keeps watching
                err.print(f"medic watch: step skipped: {exc}", highlight=False, soft_wrap=True)
            done += 1
            if loop.steps % config.checkpoint_every == 0:
                loop.checkpoint()
            if steps is None or done < steps:
                time.sleep(max(0.0, config.step_s - (time.monotonic() - started)))
    except KeyboardInterrupt:
        pass
    finally:
        loop.checkpoint()
        backend.close()


def bench_watch_command(
    limit: Annotated[int | None, typer.Option(help="only the first N scenarios (by id)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    out: Annotated[Path | None, typer.Option(help="also write the JSON result here")] = None,
) -> None:
    """Replay every shipped scenario through `medic watch`: lead time before each alert, detection rate,
    false incidents per service-day, forecast vs the simulated truth; and the loop's throughput and
    memory per 10,000 series."""
    from server.watch.bench import run_bench

    settings = _settings(None)
    result = run_bench(settings, limit)
    text = json.dumps(result, indent=None if as_json else 2, default=str)
    if out is not None:
        out.write_text(text + "\n")
    print(text)
