"""The benchmark's arithmetic: AC@k and Avg@5 with misses, specificity, and the table's scopes."""

from __future__ import annotations

import pytest

from evals.bench.rca.scoring import accuracy, by_scope, position_of, quiet_by_scope, scopes, specificity


def test_ac_at_k_and_avg_at_5_count_an_empty_answer_as_a_miss() -> None:
    scores = accuracy([1, 2, 6, None])
    assert (scores.n, scores.ac_at_1, scores.ac_at_3) == (4, 0.25, 0.5)
    assert scores.avg_at_5 == pytest.approx((0.25 + 0.5 + 0.5 + 0.5 + 0.5) / 5)
    assert accuracy([]).ac_at_1 == 0.0


def test_position_is_one_based_and_none_when_not_reported() -> None:
    assert position_of("b", ["a", "b"]) == 2
    assert position_of("b", []) is None


def test_specificity_is_the_share_of_windows_with_nothing_reported() -> None:
    assert specificity([False, False, True, False]).quiet == 0.75
    assert specificity([]).n == 0


def test_a_case_counts_in_all_its_fault_type_and_its_groups_in_a_stable_order() -> None:
    items = [
        (scopes("latency", {"scenario": "low"}), 1),
        (scopes("availability", {"scenario": "high"}), None),
        (scopes("latency", {"scenario": "high"}), 3),
    ]
    table = by_scope(items)
    assert list(table) == ["all", "fault=availability", "fault=latency", "scenario=high", "scenario=low"]
    assert table["all"].n == 3 and table["all"].ac_at_3 == pytest.approx(2 / 3)
    assert table["fault=latency"].ac_at_1 == 0.5 and table["scenario=high"].ac_at_3 == 0.5
    quiet = quiet_by_scope([(["all", "scenario=low"], True), (["all", "scenario=high"], False)])
    assert quiet["all"].quiet == 0.5 and quiet["scenario=high"].quiet == 1.0
