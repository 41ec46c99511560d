"""A restart from a checkpoint resumes the loop exactly: same incidents, same state, no relearning;
and the file store keeps the last whole checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.watch.config import WatchConfig
from server.watch.detection import Detection
from server.watch.loop import WatchLoop
from server.watch.store import FileStateStore, MemoryStateStore, WatchStateStore
from tests.server.watch.synthetic import NAMESPACE, SyntheticBackend, at
from tests.server.watch.test_persistence import STEPS, noisy_world

CONFIG = WatchConfig(namespaces=[NAMESPACE], shard="replica-a")
RESTART = 300  # after the warm-up, before the shift at 330


def steps(loop: WatchLoop, first: int, last: int) -> list[Detection]:
    found: list[Detection] = []
    for step in range(first, last):
        found += loop.run_step(at(step))
    return found


def test_a_restored_loop_decides_as_an_uninterrupted_one(tmp_path: Path) -> None:
    world = noisy_world(5, blip=False, shift=True)
    whole = WatchLoop(CONFIG, SyntheticBackend(world, CONFIG), MemoryStateStore())
    expected = steps(whole, 0, STEPS)
    assert [d.service for d in expected if d.kind == "anomaly"] == ["checkout"]

    store = FileStateStore(tmp_path / "watch")
    assert isinstance(store, WatchStateStore)
    first = WatchLoop(CONFIG, SyntheticBackend(world, CONFIG), store)
    before = steps(first, 0, RESTART)
    first.checkpoint()
    del first
    resumed = WatchLoop(CONFIG, SyntheticBackend(world, CONFIG), FileStateStore(tmp_path / "watch"))
    assert resumed.steps == RESTART and resumed.detectors  # nothing relearned
    after = steps(resumed, RESTART, STEPS)
    assert before + after == expected
    assert resumed.states() == whole.states()  # every detector, track and history bit for bit


def test_the_checkpoint_is_plain_json_text_per_key(tmp_path: Path) -> None:
    loop = WatchLoop(CONFIG, SyntheticBackend(noisy_world(1, False, False), CONFIG), FileStateStore(tmp_path))
    steps(loop, 0, 20)
    loop.checkpoint()
    saved = json.loads((tmp_path / "replica-a.json").read_text())
    detector = json.loads(saved["detector|shop/checkout:error_ratio"])
    assert detector["format"] == 1 and detector["high"] != "inf"  # non-finite scalars as strings only
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed into place


def test_a_damaged_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "replica-a.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a watch checkpoint"):
        WatchLoop(CONFIG, SyntheticBackend(noisy_world(1, False, False), CONFIG), FileStateStore(tmp_path))
