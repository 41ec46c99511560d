"""`python -m evals.bench.sandbox_up [--runs N] [--json] [--baseline]`: how fast a sandbox comes up.

Brings up a 6h/15s and a 3d/60s online-boutique scenario N times each and reports the median of every
phase: simulate, write (OpenMetrics, overlapped with backfill), backfill (the wait for promtool after
the last window was written), start+ready (Prometheus and the emulator), and the total to ready.
Targets: 6h ≤ 5 s, 3d ≤ 15 s on two cores. `cpu` (of `up` and promtool) does not depend on what
else the machine is doing, the wall times do. `--baseline` also times what the windows replace: one
OpenMetrics file given to a single promtool (which re-parses it for every 2h block).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

from evals.sandbox.openmetrics import write_openmetrics
from evals.sandbox.prometheus import find_binary
from evals.sandbox.sandbox import SandboxConfig, down, up_timed
from evals.scenario import Scenario, load_scenario

TARGETS_S = {"6h/15s": 5.0, "3d/60s": 15.0}
PHASES = ("simulate_s", "write_s", "backfill_s", "start_ready_s", "total_s", "cpu_s")


class BenchRow(BaseModel):
    scenario: str
    runs: int
    samples: int
    windows: int
    median_s: dict[str, float]
    write_samples_per_s: float  # per second of the writer's CPU: the wall time shares cores with promtool
    target_s: float
    baseline_promtool_s: float | None = None

    @property
    def passed(self) -> bool:
        return self.median_s["total_s"] <= self.target_s


def bench_scenarios() -> dict[str, Scenario]:
    shipped = load_scenario("checkout-bad-deploy")
    data = shipped.model_dump(mode="json")
    long = Scenario.model_validate({**data, "id": f"{shipped.id}-3d", "history": "3d", "step": "60s"})
    return {"6h/15s": shipped, "3d/60s": long}


def _baseline(scenario: Scenario, work: Path) -> float:
    """Seconds for one promtool run over the whole history in one file (the approach not taken)."""
    from evals.world.simulate import simulate

    world = simulate(scenario)
    path = work / "all.om"
    write_openmetrics(world.families, world.timestamps, path)
    promtool = find_binary("promtool")
    started = time.perf_counter()
    argv = [
        promtool,
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        "-q",
        str(path),
        str(work / "baseline-tsdb"),
    ]
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started


def _cpu_s() -> float:
    """CPU seconds of this process and its waited-for children (promtool), not the servers'."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(runs: int, baseline: bool, state_dir: Path) -> list[BenchRow]:
    config = SandboxConfig(state_dir=state_dir)
    rows = []
    for label, scenario in bench_scenarios().items():
        timings = []
        for _ in range(runs):
            cpu = _cpu_s()
            try:
                timings.append({**up_timed(scenario, config)[1]})
                timings[-1]["cpu_s"] = _cpu_s() - cpu
            finally:
                down(scenario.id, config)
        median = {phase: statistics.median(t[phase] for t in timings) for phase in (*PHASES, "write_cpu_s")}
        samples = int(timings[0]["samples"])
        rows.append(
            BenchRow(
                scenario=label,
                runs=runs,
                samples=samples,
                windows=int(timings[0]["windows"]),
                median_s=median,
                write_samples_per_s=samples / median["write_cpu_s"],
                target_s=TARGETS_S[label],
                baseline_promtool_s=_baseline(scenario, state_dir) if baseline else None,
            )
        )
    return rows


def render(rows: list[BenchRow]) -> str:
    head = [
        "scenario",
        "samples",
        "windows",
        *(p.removesuffix("_s") for p in PHASES),
        "write/cpu-s",
        "target",
        "",
    ]
    lines = [head]
    for row in rows:
        lines.append(
            [
                row.scenario,
                f"{row.samples:,}",
                str(row.windows),
                *(f"{row.median_s[p]:.2f}s" for p in PHASES),
                f"{row.write_samples_per_s / 1e6:.2f}M",
                f"≤{row.target_s:.0f}s",
                "ok" if row.passed else "SLOW",
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = "\n".join("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in lines)
    for row in rows:
        if row.baseline_promtool_s is not None:
            text += f"\n{row.scenario}: one file through one promtool takes {row.baseline_promtool_s:.2f}s"
    return (
        text + f"\nmedian of {rows[0].runs if rows else 0} run(s); backfill = the wait for promtool after "
        "writing; cpu = CPU seconds of up and promtool (not of the servers)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.bench.sandbox_up", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--baseline", action="store_true", help="also time a single-file promtool backfill")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="medic-bench-") as tmp:
        rows = run(max(1, args.runs), args.baseline, Path(tmp))
    if args.json:
        print(json.dumps([{**row.model_dump(), "passed": row.passed} for row in rows], indent=2))
    else:
        print(render(rows))
    return 0 if all(row.passed for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
