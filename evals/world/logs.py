"""Pod logs: access lines that follow the load model, plus what each fault makes a process write
(error lines after a bad deploy, a config error in a crashlooping container, heap warnings before an
OOM kill, upstream timeouts in callers). Bounded: at most MAX_LINES per container."""

from __future__ import annotations

import base64

import numpy as np

from evals.scenario import CrashloopParams, Scenario
from evals.world.faults import Effects
from evals.world.grid import Grid
from evals.world.k8s_format import log_timestamp, short_hex
from evals.world.load import LoadState
from evals.world.model import PodLog
from evals.world.planted import plant_logs
from evals.world.pods import Pod, ServicePods

MAX_LINES = 200
WINDOW_MS = 3_600_000  # logs cover the last hour (or the container's life, if shorter)
LINE_EVERY_MS = 30_000


def route(service: str) -> str:
    stem = service.removeprefix("ts-").removesuffix("service").removesuffix("-service").strip("-") or service
    return f"/api/{stem}"


def build_logs(
    scenario: Scenario, grid: Grid, plans: dict[str, ServicePods], state: LoadState, effects: Effects
) -> list[PodLog]:
    ns = scenario.topology.namespace
    reasons = {
        f.target: CrashloopParams.model_validate(f.params).reason
        for f in scenario.faults
        if f.kind == "crashloop"
    }
    logs: list[PodLog] = []
    for service, plan in plans.items():
        spec = scenario.topology.services[service]
        for pod in plan.pods:
            if pod.end < grid.n or pod.evicted_ms is not None:
                continue  # deleted or evicted: the kubelet no longer serves its logs
            if pod.crashloop:
                ended = [ms for ms, _ in pod.terminations if ms <= grid.end_ms]
                last = ended[-1] if ended else grid.end_ms
                lines = _config_error(pod, last, reasons.get(service, "invalid configuration"))
                logs.append(PodLog(ns, pod.name, service, lines))
                if len(ended) > 1:
                    logs.append(
                        PodLog(
                            ns,
                            pod.name,
                            service,
                            _config_error(pod, ended[-2], reasons.get(service, "")),
                            True,
                        )
                    )
                continue
            kills = [ms for ms, _ in pod.terminations if ms <= grid.end_ms]
            since = kills[-1] + 1000 if kills else pod.created_ms + 2000
            logs.append(
                PodLog(
                    ns,
                    pod.name,
                    service,
                    _run_lines(grid, pod, state, effects, since, grid.end_ms, spec.entry),
                )
            )
            if kills:
                begin = kills[-2] + 1000 if len(kills) > 1 else pod.created_ms + 2000
                lines = _run_lines(grid, pod, state, effects, begin, kills[-1], spec.entry)
                logs.append(PodLog(ns, pod.name, service, lines, previous=True))
    return plant_logs(scenario, plans, logs, MAX_LINES)


def _config_error(pod: Pod, exit_ms: int, reason: str) -> list[str]:
    start = exit_ms - 4000
    config = dict(pod.revision.env).get("APP_CONFIG", "/etc/app/config.yaml")
    return [
        f"{log_timestamp(start)} INFO starting {pod.service} version {pod.revision.image_tag}",
        f"{log_timestamp(start + 120)} INFO loading configuration from {config}",
        f"{log_timestamp(start + 310)} FATAL {reason or 'invalid configuration'}: "
        f'key "upstream.timeout" must be a duration, got "30 seconds" (in {config})',
        f"{log_timestamp(start + 330)} INFO shutting down: exit code 1",
    ]


def _run_lines(
    grid: Grid, pod: Pod, state: LoadState, effects: Effects, since_ms: int, until_ms: int, entry: bool
) -> list[str]:
    """One container instance's log from `since_ms` to `until_ms` (its last hour at most)."""
    rng = grid.rng("logs", pod.name, since_ms)
    ps = state.pods[pod.name]
    mem = effects.pods[pod.name].mem_frac
    begin = max(since_ms, until_ms - WINDOW_MS)
    lines = [
        f"{log_timestamp(since_ms)} INFO starting {pod.service} version {pod.revision.image_tag}",
        f"{log_timestamp(since_ms + 250)} INFO listening on :8080",
    ]
    edges = [e for (caller, _), e in state.edges.items() if caller == pod.service]
    token_at = until_ms - int(rng.integers(60_000, 900_000))
    moments = np.arange(begin + LINE_EVERY_MS, until_ms, LINE_EVERY_MS, dtype=np.int64)
    at = np.minimum(np.searchsorted(grid.ts_ms, moments), grid.n - 1)
    errs = np.nan_to_num(ps.err[at]).tolist()
    lats = np.nan_to_num(ps.lat_ms[at], nan=1.0).tolist()
    utils = state.services[pod.service].util[at].tolist()
    mems = mem[at].tolist()
    edge_errs = [(e.callee, e.err[at].tolist(), e.mean_ms[at].tolist()) for e in edges]
    timed_out = {e.callee: (e.timeout_ms, e.timed_out[at].tolist()) for e in edges if e.timed_out is not None}
    draws, noise, jitters = (
        rng.random(len(at) * 2).tolist(),
        rng.normal(0, 0.3, len(at)).tolist(),
        rng.integers(0, 999, len(at)).tolist(),
    )
    for k, at_ms in enumerate(moments.tolist()):
        stamp = log_timestamp(at_ms + jitters[k])
        trace = short_hex(pod.name, at_ms, length=32)
        failed = draws[2 * k] < errs[k]
        duration = lats[k] * float(np.exp(noise[k]))
        level, status = ("ERROR", 500) if failed else ("INFO", 200)
        lines.append(
            f"{stamp} {level} request completed method=GET route={route(pod.service)} status={status} "
            f"duration_ms={duration:.1f} trace_id={trace}"
        )
        worst = max(edge_errs, key=lambda e: (e[1][k], e[2][k]), default=None)
        if worst is not None and (
            worst[2][k] > 250 or (worst[1][k] > 0.02 and draws[2 * k + 1] < worst[1][k] * 3)
        ):
            if worst[0] in timed_out and timed_out[worst[0]][1][k] > 0.01:  # the client's own timeout
                lines.append(
                    f"{stamp} ERROR upstream timeout calling {worst[0]}: context deadline exceeded "
                    f"after {timed_out[worst[0]][0]:.0f}ms trace_id={trace}"
                )
            elif worst[2][k] > 250 or worst[0] in effects.loss:
                lines.append(
                    f"{stamp} ERROR upstream timeout calling {worst[0]}: context deadline exceeded "
                    f"after {max(worst[2][k], 1000):.0f}ms trace_id={trace}"
                )
            else:
                lines.append(
                    f"{stamp} ERROR upstream error calling {worst[0]}: 500 Internal Server Error "
                    f"trace_id={trace}"
                )
        if failed and pod.revision.cause == "bad_deploy":
            lines.append(
                f"{stamp} ERROR unhandled exception in {route(pod.service)}: NullPointerException: "
                f"order.items is null (release {pod.revision.image_tag}) trace_id={trace}"
            )
        if failed and errs[k] > 0.99:
            lines.append(
                f"{stamp} ERROR failed to handle request: dial tcp 127.0.0.1:6379: connect: connection refused"
            )
        if utils[k] > 1.0:
            lines.append(f"{stamp} WARN request queue is full ({int(50 * utils[k])} waiting), shedding load")
        if mems[k] > 0.85:
            lines.append(
                f"{stamp} WARN heap usage {100 * mems[k]:.0f}% of container memory limit, "
                f"GC pause {int(100 + 900 * (mems[k] - 0.85))}ms"
            )
        if entry and at_ms <= token_at < at_ms + LINE_EVERY_MS:
            lines.append(
                f"{stamp} DEBUG outgoing request headers: Authorization: Bearer {_fake_jwt(pod.name)}"
            )
    return lines[-MAX_LINES:] if len(lines) > MAX_LINES else lines


def _fake_jwt(seed: str) -> str:
    """A token that looks like a real bearer JWT, so that redaction can be tested on realistic text."""

    def part(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    return ".".join(
        (
            part('{"alg":"HS256","typ":"JWT"}'),
            part(f'{{"sub":"{short_hex(seed, length=8)}","role":"svc"}}'),
            part(short_hex(seed, "sig", length=32)),
        )
    )
