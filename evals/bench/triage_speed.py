"""`python -m evals.bench.triage_speed [--runs N] [--scenarios DIR] [--json]`: how fast the rules
planner triages, with the sandbox already up.

For every scenario file: bring its sandbox up once, then run the whole investigation (the real
graph, tools and guard; a fresh incident each run) N times, timing only the investigation. Reports
p50/p95 wall time and tool calls per triage over all runs (targets: p50 ≤ 2 s, ≤ 15 calls).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from agent.assemble import AgentConfig, open_agent
from evals.sandbox.sandbox import SandboxConfig, down, up
from evals.scenario import SCENARIO_DIR, load_scenario
from evals.triage import sandbox_agent_config, scenario_incident

TARGET_P50_S, TARGET_CALLS = 2.0, 15


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(folder: Path, runs: int) -> dict[str, object]:
    state = Path(tempfile.mkdtemp(prefix="medic-bench-"))
    sandbox = SandboxConfig(state_dir=state / "sandbox")
    per_scenario: dict[str, dict[str, object]] = {}
    walls: list[float] = []
    calls: list[int] = []
    for path in sorted(folder.glob("*.yaml")):
        scenario = load_scenario(path)
        info = up(scenario, sandbox)
        try:
            config = sandbox_agent_config(AgentConfig(), info, state / "runs" / scenario.id)
            times, counts = [], []
            with open_agent(config) as agent:
                for _ in range(runs):
                    incident = scenario_incident(scenario)  # a new opaque id: each run its own thread
                    started = time.perf_counter()
                    values = agent.run(incident, config.budget, lambda event: None, lambda payload: None)
                    times.append(time.perf_counter() - started)
                    counts.append(values["usage"].tool_calls)  # type: ignore[attr-defined]
            per_scenario[scenario.id] = {
                "median_s": round(statistics.median(times), 3),
                "tool_calls": counts[0],
            }
            walls += times
            calls += counts
        finally:
            down(scenario.id, sandbox)
    return {
        "runs_per_scenario": runs,
        "triages": len(walls),
        "p50_wall_s": round(statistics.median(walls), 3),
        "p95_wall_s": round(percentile(walls, 0.95), 3),
        "mean_tool_calls": round(statistics.fmean(calls), 2),
        "max_tool_calls": max(calls),
        "scenarios": per_scenario,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench.triage_speed", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenarios", type=Path, default=SCENARIO_DIR)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.scenarios, args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for sid, row in result["scenarios"].items():  # type: ignore[attr-defined]
        print(f"{sid:32s} median {row['median_s']:6.2f}s  {row['tool_calls']:3d} tool calls")
    ok = result["p50_wall_s"] <= TARGET_P50_S and result["max_tool_calls"] <= TARGET_CALLS  # type: ignore[operator]
    print(
        f"{result['triages']} triages: p50 {result['p50_wall_s']}s, p95 {result['p95_wall_s']}s, "
        f"tool calls mean {result['mean_tool_calls']} max {result['max_tool_calls']} "
        f"(targets p50 ≤ {TARGET_P50_S}s, ≤ {TARGET_CALLS} calls: {'ok' if ok else 'missed'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
