"""`up` and `down` of the sandbox (DESIGN §3.7): a scenario's world or a recording's parts behind a
real Prometheus, the Kubernetes API emulator, trace files, a kubeconfig and an env file.

Each sandbox has a run directory of its own (its files: `evals.sandbox.run_dir`). The servers run
in their own sessions so they outlive `up`. A start that fails or is interrupted (exception, SIGTERM,
SIGINT) stops every child it started; if `up` itself is SIGKILLed, the next `up` or `down` finds the
children through state.json or, for one started in the instant before it was recorded, by the run
directory on its command line.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import sys
import time
from pathlib import Path

from pydantic import BaseModel, Field

from evals.replayable import Replayable, as_replayable
from evals.sandbox import processes, tsdb_cache
from evals.sandbox.contents import Contents
from evals.sandbox.processes import ProcessError, ProcessRecord, SandboxError
from evals.sandbox.prometheus import PrometheusServer, find_binary
from evals.sandbox.run_dir import Run, RunLayout, RunState, SandboxInfo
from evals.scenario import Scenario

Servable = Replayable | Scenario | str | Path  # a case, or what `load_replayable` reads


class SandboxConfig(BaseModel):
    """What `up` and `down` need from the settings; the binaries are names on PATH or paths."""

    state_dir: Path = Field(default_factory=lambda: Path.cwd() / ".medic" / "sandbox")
    prometheus_bin: str = "prometheus"
    promtool_bin: str = "promtool"
    start_timeout_s: float = Field(
        60.0, gt=0, description="for both servers to be ready once the backfill is done"
    )
    tsdb_cache_dir: Path | None = Field(
        None,
        description="backfilled TSDBs kept by scenario digest and reused by the next `up` of the same "
        "scenario (evals/sandbox/tsdb_cache.py); for one test session only, never a setting",
    )


def layout(name: str, config: SandboxConfig) -> RunLayout:
    if not name or "/" in name or name.startswith("."):
        raise SandboxError(f"{name!r} is not a sandbox name (a scenario or recording id)")
    return RunLayout(config.state_dir.resolve() / name)


def up(scenario: Servable, config: SandboxConfig | None = None, *, name: str | None = None) -> SandboxInfo:
    """Bring the sandbox of a scenario or recording up under `name` (default: its id); one already up
    under that name is brought down first. Returns once Prometheus answers queries and the emulator
    serves."""
    return up_timed(scenario, config, name=name)[0]


def up_timed(
    scenario: Servable, config: SandboxConfig | None = None, *, name: str | None = None
) -> tuple[SandboxInfo, dict[str, float]]:
    """`up`, also returning how long each phase took (seconds), for the benchmark."""
    config = config or SandboxConfig()
    case = as_replayable(scenario)
    promtool_bin, prometheus_bin = find_binary(config.promtool_bin), find_binary(config.prometheus_bin)
    down(name or case.id, config)
    state = RunState(scenario=case.id, scenario_digest=case.digest())
    run = Run(layout(name or case.id, config), state)
    run.paths.root.mkdir(parents=True)
    run.save()
    with processes.undo_on_failure(lambda: _undo(run), "the start"):
        info = _start(
            case,
            run,
            config.model_copy(update={"promtool_bin": promtool_bin, "prometheus_bin": prometheus_bin}),
        )
    return info, run.timings


def _start(case: Replayable, run: Run, config: SandboxConfig) -> SandboxInfo:
    paths, timings = run.paths, run.timings
    clock = time.perf_counter()
    contents = case.contents()
    timings.update(contents.load())

    paths.kube_state.write_text(json.dumps(contents.kube_state()))
    kube_argv = [sys.executable, "-m", "evals.sandbox.kube", "--state", str(paths.kube_state)]
    kube_argv += ["--ready-file", str(paths.kube_ready)]
    kube = processes.start_detached("kube-emulator", kube_argv, paths.logs / "kube.log", paths.kube_signature)
    run.started(kube)

    traces_dir = paths.root / "traces"
    cache = config.tsdb_cache_dir if case.kind == "scenario" else None
    if cache is None:
        _backfill(contents, run, config.promtool_bin, traces_dir)
    else:
        with tsdb_cache.claim(cache, case.digest()):  # waits while another process backfills it
            if tsdb_cache.restore(cache, case.digest(), paths.tsdb):
                contents.write_traces(traces_dir)
                timings["tsdb_restored"] = 1.0
            else:
                _backfill(contents, run, config.promtool_bin, traces_dir)
                tsdb_cache.keep(cache, case.digest(), paths.tsdb)

    ready_clock = time.perf_counter()
    deadline = time.monotonic() + config.start_timeout_s
    prometheus = PrometheusServer(
        config.prometheus_bin, paths.tsdb, paths.logs / "prometheus.log", run.started
    )
    prometheus.start()
    kube_url = _wait_for_emulator(kube, paths.kube_ready, deadline)
    _write_kubeconfig(kube_url, paths.root / "kubeconfig", contents.namespace)
    prometheus.wait_ready(*contents.probe(), deadline)
    timings["start_ready_s"] = time.perf_counter() - ready_clock
    timings["total_s"] = time.perf_counter() - clock

    info = SandboxInfo(
        prometheus_url=prometheus.url,
        kubernetes_url=kube_url,
        kubeconfig=paths.root / "kubeconfig",
        traces_dir=traces_dir,
        env_file=paths.root / "sandbox.env",
    )
    _write_env_file(info, case.id, contents)
    run.state.info, run.state.timings = info, dict(timings)
    run.save()
    return info


def _backfill(contents: Contents, run: Run, promtool: str, traces_dir: Path) -> None:
    stats = contents.backfill(  # the traces are written while the last promtool runs finish
        run.paths.root / "openmetrics", run.paths.tsdb, promtool, lambda: contents.write_traces(traces_dir)
    )
    run.timings.update(write_s=stats.write_s, backfill_s=stats.backfill_wait_s, samples=float(stats.samples))
    run.timings.update(windows=float(stats.windows), write_cpu_s=stats.write_cpu_s)


def _wait_for_emulator(record: ProcessRecord, ready_file: Path, deadline: float) -> str:
    found: list[str] = []

    def ready() -> bool:
        try:
            found.append(str(json.loads(ready_file.read_text())["url"]))
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return False
        return True

    processes.wait_until(ready, record, deadline, f"serving (no {ready_file.name})")
    return found[-1]


def _write_kubeconfig(url: str, path: Path, namespace: str) -> None:
    from evals.sandbox.kube import write_kubeconfig

    write_kubeconfig(url, path, namespace=namespace)


def _write_env_file(info: SandboxInfo, name: str, contents: Contents) -> None:
    """The settings that point medic at this sandbox: only variables `server/settings.py` reads."""
    end = contents.as_of.isoformat().replace("+00:00", "Z")
    lines = [
        ("MEDIC_PROMETHEUS_URL", info.prometheus_url),
        ("MEDIC_KUBECONFIG", str(info.kubeconfig)),
        ("MEDIC_TRACES_BACKEND", "otlp-file"),
        ("MEDIC_TRACES_DIR", str(info.traces_dir)),
    ]
    # Quoted only where needed: both `source` and dotenv readers (pydantic-settings) accept it.
    header = f"# medic sandbox of {contents.what} {name}; its telemetry ends at {end}\n"
    info.env_file.write_text(header + "".join(f"{key}={shlex.quote(value)}\n" for key, value in lines))


def _undo(run: Run) -> None:
    """After a failed or interrupted start: stop every child, drop the bulky data, keep the logs."""
    _stop_processes(run.paths, run.state.processes)
    for bulky in (run.paths.root / "openmetrics", run.paths.tsdb):
        shutil.rmtree(bulky, ignore_errors=True)
    run.state.processes = []
    with contextlib.suppress(OSError):
        run.save()


def _stop_processes(paths: RunLayout, records: list[ProcessRecord]) -> None:
    for record in records:
        processes.stop(record)
    for signature in paths.signatures():  # a child started in the instant before it was recorded
        processes.stop_by_signature(signature)


def down(name: str, config: SandboxConfig | None = None) -> bool:
    """Stop what the sandbox `name` (a case's id, unless `up` was given another name) runs and remove
    its run directory; returns whether there was anything. Safe to call any number of times."""
    paths = layout(name, config or SandboxConfig())
    records: list[ProcessRecord] = []
    with contextlib.suppress(OSError, ValueError):
        records = RunState.model_validate_json(paths.state_file.read_text()).processes
    existed = paths.root.exists()
    _stop_processes(paths, records)
    shutil.rmtree(paths.root, ignore_errors=True)
    return existed


def down_all(config: SandboxConfig | None = None) -> list[str]:
    """`down` every sandbox under the state directory (a triage's own too); returns their names."""
    config = config or SandboxConfig()
    if not config.state_dir.is_dir():
        return []
    ids = sorted(p.name for p in config.state_dir.iterdir() if p.is_dir())
    for scenario_id in ids:
        down(scenario_id, config)
    return ids


def status(name: str, config: SandboxConfig | None = None) -> SandboxInfo | None:
    """The info of a sandbox that is up with all its processes alive, else None."""
    state = _running_state(name, config)
    return state.info if state else None


def running(scenario: Replayable | Scenario, config: SandboxConfig | None = None) -> SandboxInfo | None:
    """The info of the sandbox `medic sandbox up` brought up for this very case (same content), if it
    is up with all its processes alive; an edited scenario file or recording gets None."""
    case = as_replayable(scenario)
    state = _running_state(case.id, config)
    if state is None or state.scenario_digest != case.digest():
        return None
    return state.info


def _running_state(name: str, config: SandboxConfig | None) -> RunState | None:
    paths = layout(name, config or SandboxConfig())
    try:
        state = RunState.model_validate_json(paths.state_file.read_text())
    except (OSError, ValueError):
        return None
    if state.info is None or not all(processes.is_running(p) for p in state.processes):
        return None
    return state


__all__ = [
    "ProcessError",
    "SandboxConfig",
    "SandboxError",
    "SandboxInfo",
    "down",
    "down_all",
    "running",
    "status",
    "up",
]
