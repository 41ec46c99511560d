from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np

from evals.scenario import load_scenario
from evals.world.otlp import write_otlp_json
from evals.world.simulate import simulate
from tests.evals.world.query import fingerprint


def test_same_scenario_gives_a_byte_identical_world(tmp_path: Path) -> None:
    scenario = load_scenario("checkout-bad-deploy")
    first, second = simulate(scenario), simulate(scenario)
    assert np.array_equal(first.timestamps, second.timestamps)
    assert fingerprint(first) == fingerprint(second)
    write_otlp_json(first.spans[:300], tmp_path / "a.jsonl", "boutique")
    write_otlp_json(second.spans[:300], tmp_path / "b.jsonl", "boutique")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_another_seed_gives_other_noise_but_the_same_shape() -> None:
    scenario = load_scenario("checkout-bad-deploy")
    other = simulate(scenario.model_copy(update={"seed": scenario.seed + 1}))
    base = simulate(scenario)
    base_fp, other_fp = fingerprint(base), fingerprint(other)
    assert [s[0] for s in base_fp[0]] == [s[0] for s in other_fp[0]]  # same families, same order
    memory = [
        (a, b)
        for a, b in zip(base_fp[0], other_fp[0], strict=True)
        if a[0] == "container_cpu_usage_seconds_total"
    ]
    assert memory and all(a[2] != b[2] for a, b in memory)
    assert base_fp[3] != other_fp[3]
    pod_names = {o["metadata"]["name"] for o in base.objects if o["kind"] == "Pod"}
    assert pod_names.isdisjoint({o["metadata"]["name"] for o in other.objects if o["kind"] == "Pod"})


def test_time_grid_runs_from_end_minus_history_to_end_at_step() -> None:
    scenario = load_scenario("checkout-bad-deploy")
    world = simulate(scenario)
    end_ms = int(scenario.end_utc.timestamp() * 1000)
    assert world.timestamps.dtype == np.int64
    assert world.timestamps[-1] == end_ms
    assert world.timestamps[0] == end_ms - int(timedelta(hours=6).total_seconds() * 1000)
    assert set(np.diff(world.timestamps).tolist()) == {15_000}
    assert all(s.values.shape == world.timestamps.shape for f in world.families for s in f.series)
