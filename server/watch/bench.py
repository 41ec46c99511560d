"""`medic bench watch`: every shipped scenario replayed through the loop, scored by
`evals.bench.watch.score`, and the loop's throughput and memory (`server.watch.throughput`).
Reached from the CLI only (it imports `evals`)."""

from __future__ import annotations

import time

from pydantic import JsonValue

from agent.runbook import load_runbook
from evals.bench.watch.score import CaseScore, Opened, score_case, summary
from evals.scenario import SCENARIO_DIR, load_scenario
from server.settings import Settings
from server.watch.replay import replay, sandbox_dir
from server.watch.throughput import measure


def run_bench(settings: Settings, limit: int | None) -> dict[str, JsonValue]:
    from server.cli import sandbox_config

    config = settings.watch_config()
    runbook = load_runbook(settings.runbook_file)
    sandbox = sandbox_config(settings).model_copy(update={"state_dir": sandbox_dir(settings.state_dir)})
    paths = sorted(SCENARIO_DIR.glob("*.yaml"))[: limit if limit is not None else None]
    cases: list[CaseScore] = []
    lines: list[JsonValue] = []
    clock = time.monotonic()
    for path in paths:
        scenario = load_scenario(path)
        result = replay(scenario, config, sandbox, runbook=runbook, timeout_s=settings.timeout_s)
        opened = [
            Opened(
                opened_at=d.opened_at,
                service=d.service,
                kind=d.kind,
                time_to_limit_s=d.time_to_limit_s,
                resource=d.resource,
            )
            for d in result.detections
        ]
        case = score_case(scenario, opened, result.saturation, config.forecast.limit_share)
        cases.append(case)
        lines.append(case.model_dump(mode="json"))
    replay_s = time.monotonic() - clock
    throughput = measure()
    totals: dict[str, JsonValue] = dict(summary(cases))
    return {
        "summary": totals,
        "cases": lines,
        "replay_s": round(replay_s, 1),
        "throughput": throughput.model_dump(mode="json"),
        "rule": config.persistence.model_dump(mode="json"),
    }
