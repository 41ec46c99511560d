"""A restart from a checkpoint resumes the loop exactly: same incidents, same state, no relearning;
the file store keeps the last whole checkpoint; a state this version cannot read is refused clearly."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import JsonValue

from server.watch.codec import (
    StateFormatError,
    detector_state,
    profile_state,
    restore_detector,
    restore_profile,
)
from server.watch.config import WatchConfig
from server.watch.detection import Detection
from server.watch.loop import WatchLoop
from server.watch.store import FileStateStore, MemoryStateStore, WatchStateStore
from tests.server.watch.synthetic import NAMESPACE, SyntheticBackend, at
from tests.server.watch.test_persistence import STEPS, noisy_world
from tools.anomaly.detector import DetectorConfig
from tools.anomaly.seasonal import DAY_S, SeasonalProfile
from tools.anomaly.streaming import StreamingDetector

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
    assert detector["format"] == 2 and detector["high"] != "inf"  # non-finite scalars as strings only
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed into place


def test_a_damaged_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "replica-a.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a watch checkpoint"):
        WatchLoop(CONFIG, SyntheticBackend(noisy_world(1, False, False), CONFIG), FileStateStore(tmp_path))


def _through_json(state: dict[str, JsonValue]) -> JsonValue:
    parsed: JsonValue = json.loads(json.dumps(state))
    return parsed


def test_a_restored_detector_scores_as_the_uninterrupted_one_with_both_seasons_active() -> None:
    t = 1_600_000_000.0 + 600.0 * np.arange(3400)  # 23 days: daily and weekly predictors in use
    x = 10.0 + 4.0 * np.sin(2 * np.pi * t / DAY_S) + np.random.default_rng(4).normal(0.0, 0.5, t.size)
    x[3200:] += 6.0  # a shift after the restart, so the compared scores include an alert
    whole = StreamingDetector()
    expected = [whole.update(a, b) for a, b in zip(t.tolist(), x.tolist(), strict=True)]
    first = StreamingDetector()
    for a, b in zip(t[:3000].tolist(), x[:3000].tolist(), strict=True):
        first.update(a, b)
    resumed = restore_detector(_through_json(detector_state(first)), DetectorConfig())
    after = [resumed.update(a, b) for a, b in zip(t[3000:].tolist(), x[3000:].tolist(), strict=True)]
    assert after == expected[3000:] and max(after) > 0.5
    assert detector_state(resumed) == detector_state(whole)


def _profile() -> SeasonalProfile:
    """Bin 3 has wrapped its ring (20 values in 14 places), bin 7 holds 5, the others nothing."""
    profile = SeasonalProfile(DAY_S, 144, 14, 2)
    values = np.random.default_rng(8).normal(0.0, 1.0, 25).tolist()
    for value in values[:20]:
        profile.learn(3, value)
    for value in values[20:]:
        profile.learn(7, value)
    return profile


def test_a_restored_seasonal_profile_predicts_identically() -> None:
    profile, restored = _profile(), SeasonalProfile(DAY_S, 144, 14, 2)
    state = profile_state(profile)
    assert state["bins"] == [3, 7] and state["count"] == [14, 5] and state["next"] == [6, 5]
    restore_profile(restored, _through_json(state), "daily")
    predictions = [profile.predict(b) for b in range(144)]
    assert np.array_equal(predictions, [restored.predict(b) for b in range(144)], equal_nan=True)
    for value in (5.0, -2.0, 7.5):  # and they go on learning alike: the next write lands in place
        profile.learn(3, value)
        restored.learn(3, value)
        profile.learn(7, value)
        restored.learn(7, value)
        assert restored.predict(3) == profile.predict(3) and restored.predict(7) == profile.predict(7)
    assert np.array_equal(restored._table, profile._table)


def test_an_empty_profile_saves_almost_nothing() -> None:
    assert len(json.dumps(profile_state(SeasonalProfile(DAY_S, 144, 14, 2)))) < 60


def _values(n: int) -> str:
    return base64.b64encode(np.zeros(n, dtype="<f8").tobytes()).decode("ascii")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bins": [3, 144]}, r"daily\.bins: values must lie in 0\.\.143"),
        ({"bins": [-1, 7]}, r"daily\.bins: values must lie in"),
        ({"count": [15, 5]}, r"daily\.count: values must lie in 1\.\.14"),
        ({"count": [True, 5]}, "expected an integer"),
        ({"next": [14, 5]}, r"daily\.next: values must lie in 0\.\.13"),
        ({"next": [6, 2]}, "has not wrapped"),
        ({"bins": [7, 3]}, "increasing"),
        ({"bins": [3, 3]}, "increasing"),
        ({"bins": [3]}, "differ in length"),
        ({"bins": "3,7"}, "expected a list"),
        ({"data": _values(18)}, "data holds 18 values, the counts say 19"),
        ({"data": _values(19)[:-8]}, "not base64|whole number"),
        ({"data": "not base64!"}, "not base64"),
        ({"data": None}, "base64 text"),
    ],
)
def test_a_malformed_table_state_is_refused(change: dict[str, JsonValue], message: str) -> None:
    state = profile_state(_profile())
    with pytest.raises(StateFormatError, match=message):
        restore_profile(SeasonalProfile(DAY_S, 144, 14, 2), {**state, **change}, "daily")


def test_a_detector_state_missing_any_part_or_of_format_1_is_refused() -> None:
    detector = StreamingDetector()
    for i in range(200):
        detector.update(1_600_000_000.0 + 30.0 * i, float(i % 7))
    state = detector_state(detector)
    for key in state:
        with pytest.raises(StateFormatError):  # never an IndexError or a KeyError
            restore_detector({k: v for k, v in state.items() if k != key}, DetectorConfig())
    # format 1 (a ring per bin) is refused; a ValueError, so `medic serve` starts that shard afresh
    with pytest.raises(StateFormatError, match="format 1; this version reads 2"):
        restore_detector({**state, "format": 1}, DetectorConfig())
    with pytest.raises(StateFormatError, match="does not fit"):  # a smaller detector's config
        restore_detector(state, DetectorConfig(local_window=10))
