"""Digests of the shipped scenarios' metrics, to prove that a change to the simulator leaves the twelve
original scenarios' telemetry (which many tests' verdicts rest on) as it was.

The values are hashed as float32: two CPUs may differ in the last bits of a float64 exp or log (numpy
picks SIMD code by CPU), and that must not fail the test. The `ALERTS` family is left out (it was added
on purpose, and only adds series). After a deliberate change of the shipped telemetry, rewrite the file:

    PYTHONPATH=$PWD .venv/bin/python -m tests.evals.world.shipped_digests --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from evals.scenario import load_scenario
from evals.world.alerts import ALERTS
from evals.world.model import World
from evals.world.simulate import simulate
from tests.sandbox_fixture import SHIPPED

DIGESTS = Path(__file__).with_name("shipped_digests.json")


def metric_digest(world: World) -> str:
    digest = hashlib.sha256(world.timestamps.tobytes())
    for family in world.families:
        if family.name == ALERTS:
            continue
        digest.update(f"{family.name}|{family.type}|{family.help}".encode())
        for series in family.series:
            digest.update(repr((series.name, series.labels)).encode())
            digest.update(series.values.astype(np.float32).tobytes())
    return digest.hexdigest()


def current() -> dict[str, str]:
    return {scenario_id: metric_digest(simulate(load_scenario(scenario_id))) for scenario_id in SHIPPED}


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: {sys.argv[0]} --write")
    DIGESTS.write_text(json.dumps(current(), indent=1, sort_keys=True) + "\n")
