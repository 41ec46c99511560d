"""The anomaly-traversal baseline on a tiny graph: detectors, the analysed row, candidates and paths."""

from __future__ import annotations

import numpy as np
import pytest

from evals.bench.rca.traversal import TraversalInput, best_path_scores, fit, traversal_rank

#   front -> mid -> leaf ;  front -> side ;  mid -> quiet
GRAPH = {"front": ["mid", "side"], "mid": ["leaf", "quiet"]}
RNG = np.random.default_rng(3)
HEALTHY = {n: 1.0 + 0.01 * RNG.standard_normal(50) for n in ("front", "mid", "leaf", "side", "quiet")}
NORMAL = 1.0


def _window(**rows: list[float]) -> dict[str, np.ndarray]:
    window = {n: np.full(5, NORMAL) for n in HEALTHY}
    window.update({n: np.asarray(v, dtype=np.float64) for n, v in rows.items()})
    return window


def _case(
    window: dict[str, np.ndarray], first_row: int = 2, healthy: dict[str, np.ndarray] | None = None
) -> TraversalInput:
    return TraversalInput(GRAPH, "front", healthy or HEALTHY, window, first_row)


def test_the_deepest_anomalous_node_on_an_anomalous_path_is_the_cause() -> None:
    slow = [1.0, 1.0, 3.0, 3.0, 3.0]
    ranked = traversal_rank(_case(_window(front=slow, mid=slow, leaf=slow)))
    assert ranked == ["leaf"]  # front and mid have an anomalous callee; quiet and side are not anomalous


def test_candidates_are_scored_by_the_best_path_sum_and_ordered() -> None:
    # side and leaf are both anomalous leaves; each is scored by the sum along its path from front
    ranked = traversal_rank(
        _case(_window(front=[1, 1, 2, 2, 2], mid=[1, 1, 2, 2, 2], leaf=[1, 1, 2, 2, 2], side=[1, 1, 5, 5, 5]))
    )
    assert ranked == [
        "side",
        "leaf",
    ]  # front + side (a large move) outscores front + mid + leaf (three small ones)


def test_an_anomalous_leaf_unreachable_through_anomalous_nodes_is_dropped() -> None:
    ranked = traversal_rank(_case(_window(front=[1, 1, 3, 3, 3], side=[1, 1, 3, 3, 3], leaf=[1, 1, 3, 3, 3])))
    assert ranked == ["side"]  # leaf is anomalous but mid (between front and leaf) is not


def test_the_target_alone_is_its_own_candidate() -> None:
    assert traversal_rank(_case(_window(front=[1, 1, 3, 3, 3]))) == ["front"]


def test_the_first_row_where_the_target_is_anomalous_is_analysed() -> None:
    # the target is normal at row 2 and anomalous at row 3, where only `side` is anomalous with it
    window = _window(front=[1, 1, 1, 3, 3], leaf=[1, 1, 3, 1, 1], mid=[1, 1, 3, 1, 1], side=[1, 1, 1, 3, 1])
    assert traversal_rank(_case(window)) == ["side"]
    # rows before `first_row` are not searched: a target anomalous only there yields nothing
    assert traversal_rank(_case(_window(front=[3, 3, 1, 1, 1]))) == []


def test_a_constant_healthy_series_flags_any_change_and_too_short_one_has_no_detector() -> None:
    healthy = dict(HEALTHY, side=np.full(50, 7.0), leaf=np.array([1.0] * 5 + [np.nan] * 45))
    detector = fit(healthy["side"])
    assert detector is not None and detector.constant
    assert detector.anomalous(np.array([7.0, 7.001])).tolist() == [False, True]
    assert fit(healthy["leaf"]) is None  # 5 points after dropping NaN
    window = _window(front=[1, 1, 3, 3, 3], side=[7, 7, 7.001, 7, 7], leaf=[1, 1, 9, 9, 9])
    assert traversal_rank(_case(window, healthy=healthy)) == ["side"]  # leaf is never judged


def test_mad_scores_are_unscaled_and_a_missing_value_scores_zero() -> None:
    detector = fit(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]))
    assert detector is not None
    assert detector.center == 6.0 and detector.scale == 3.0  # median |x - 6| of 0..5 → 3
    assert detector.score(np.array([21.0, np.nan])).tolist() == [5.0, 0.0]
    assert not detector.anomalous(np.array([21.0]))[0]  # above 5, not at 5


def test_best_path_takes_the_largest_sum_over_simple_paths_and_ignores_cycles() -> None:
    graph = {"t": ["a", "b"], "a": ["c"], "b": ["c"], "c": ["t"]}
    scores = best_path_scores(graph, "t", {"t": 6.0, "a": 6.0, "b": 10.0, "c": 7.0})
    assert scores == {"t": 6.0, "a": 12.0, "b": 16.0, "c": 23.0}


@pytest.mark.parametrize("target_row", [[1.0] * 5, [np.nan] * 5])
def test_no_answer_when_the_target_is_never_anomalous(target_row: list[float]) -> None:
    assert traversal_rank(_case(_window(front=target_row, leaf=[9.0] * 5))) == []
