"""PetShop cases from the published layout: every split, the alert instant, healthy history shifted by
whole days, the tool's signal names, client-side nodes, and windows cut from noissue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evals.bench.rca.case_model import CaseWindow, Source
from evals.bench.rca.cases_petshop import LOOKBACK_S, petshop_cases, petshop_healthy
from evals.bench.rca.methods import METHODS
from tests.evals.bench.rca_fixtures import (
    DB,
    FRONT,
    HEALTHY_START,
    ISSUE_T,
    LB,
    SEARCH,
    SEARCH_CLIENT,
    STEP,
    write_petshop,
)

METRICS: frozenset[Source] = frozenset({"metrics"})


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_petshop(tmp_path_factory.mktemp("petshop"))


def _series(window: CaseWindow, entity: str, signal: str) -> np.ndarray:
    matrix = window.matrix
    return next(
        matrix.values[i] for i, k in enumerate(matrix.keys) if (k.entity, k.signal) == (entity, signal)
    )


def test_every_issue_of_every_split_is_a_case_labelled_by_its_slo(root: Path) -> None:
    cases = list(petshop_cases(root))
    assert [(c.name, c.cause, c.fault, dict(c.groups)) for c in cases] == [
        ("low/test/issue_0", SEARCH, "availability", {"scenario": "low", "reference": "own"}),
        ("low/train/issue_0", SEARCH, "latency", {"scenario": "low", "reference": "own"}),
        ("temporal/train/issue_0", SEARCH, "latency", {"scenario": "temporal", "reference": "sibling:low"}),
    ]


def test_the_window_ends_when_the_alarm_on_the_violated_period_fires(root: Path) -> None:
    window = next(c for c in petshop_cases(root) if c.name == "low/train/issue_0").load(METRICS)
    first = ISSUE_T - 483
    assert window.injected == ISSUE_T
    # the first period lying mostly after the violation starts at first + 600; it closes 300 s later
    assert window.latest == first + 900 == window.matrix.times[-1]
    issue_ends = window.matrix.times[window.matrix.times > first]
    np.testing.assert_array_equal(issue_ends, [first + 300, first + 600, first + 900])  # stamped at their end
    assert window.target is not None and (window.target.node, window.target.metric) == (FRONT, "latency")


def test_history_is_healthy_data_shifted_by_whole_days_within_the_lookback(root: Path) -> None:
    window = next(c for c in petshop_cases(root) if c.name == "low/train/issue_0").load(METRICS)
    history = window.matrix.times[window.matrix.times <= ISSUE_T - 483]
    assert history.size == int(LOOKBACK_S // STEP) - 3  # the lookback, less the issue's own three rows
    # the last healthy period ends by the time the issue window starts, less than a period before it
    assert ISSUE_T - 483 - STEP < history[-1] <= ISSUE_T - 483
    assert np.all((history - (HEALTHY_START + STEP)) % 86400 % STEP == 0)  # shifted by whole days
    assert np.all(np.diff(history) == STEP)


def test_columns_carry_the_shipped_signal_names(root: Path) -> None:
    window = next(c for c in petshop_cases(root) if c.name == "low/test/issue_0").load(METRICS)
    kinds = {(k.entity, k.signal): k.kind for k in window.matrix.keys}
    assert kinds[(SEARCH, "latency_p99")] == "latency" and kinds[(SEARCH, "latency_average")] == "latency"
    assert kinds[(SEARCH, "error_ratio")] == "errors" and kinds[(SEARCH, "requests")] == "traffic"
    # client-side nodes are a caller's view of a service
    assert (
        kinds[(SEARCH_CLIENT, "callers_latency_p99")] == "latency"
        and kinds[(LB, "callers_error_ratio")] == "errors"
    )
    errors = _series(window, SEARCH, "error_ratio")
    assert errors[0] == pytest.approx(0.0) and errors[-1] == pytest.approx(0.02)  # 1 − 98 % / 100
    requests = next(k for k in window.matrix.keys if k.signal == "requests")
    assert requests.noise == "count"  # per period, as published
    assert 270 < float(np.nanmedian(_series(window, SEARCH, "requests"))) < 330
    assert np.isnan(_series(window, DB, "latency_p99")).any()  # the empty cells
    raw = {(k.entity, k.signal) for k in window.raw.keys}
    assert (FRONT, "availability_Average") in raw and (DB, "latency_p99") in raw


def test_a_client_side_node_without_an_edge_stands_for_its_callers_other_services(root: Path) -> None:
    window = next(iter(petshop_cases(root))).load(METRICS)
    assert window.calls[LB] == [SEARCH]  # Front calls Search and the load balancer's client view
    assert window.calls[SEARCH_CLIENT] == [SEARCH]  # already had its edge
    assert window.calls[FRONT] == [SEARCH, LB]
    assert (
        window.traversal is not None and window.traversal.graph[LB] == []
    )  # the baseline gets the published graph


def test_without_its_own_healthy_data_a_scenario_borrows_its_siblings_for_medic_and_the_traversal(
    root: Path,
) -> None:
    window = next(c for c in petshop_cases(root) if c.name.startswith("temporal")).load(METRICS)
    assert window.matrix.times.size == int(LOOKBACK_S // STEP)  # the sibling's rows fill the lookback
    assert window.traversal is not None and window.traversal.healthy[FRONT].size == 300  # fitted on them


def test_medic_and_the_traversal_find_the_delayed_service(root: Path) -> None:
    window = next(c for c in petshop_cases(root) if c.name == "low/train/issue_0").load(METRICS)
    assert METHODS["medic-given"](window).ranked[0] == SEARCH
    assert window.traversal is not None and window.traversal.first_row == 2
    assert SEARCH in METHODS["traversal"](window).ranked[:2]


def test_healthy_windows_are_cut_from_noissue_from_half_way_once_per_slo(root: Path) -> None:
    windows = list(petshop_healthy(root))
    rows = list(range(150, 298, 12))
    assert len(windows) == 2 * len(rows)  # latency and availability SLOs; the temporal scenario has none
    assert all(w.healthy and w.groups["scenario"] == "low" for w in windows)
    first = windows[0].load(METRICS)
    start = HEALTHY_START + STEP * rows[0]
    assert first.latest == start + STEP == first.matrix.times[-1]
    assert first.injected == start - STEP / 4  # the pseudo violation lies in the period before
    assert first.traversal is not None and first.traversal.first_row == 2
    assert first.traversal.healthy[FRONT].size == rows[0] - 2  # fitted on every row before the window
    assert first.traversal.window[FRONT].size == 5


def test_a_folder_without_the_layout_says_which_it_expected(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"graph\.csv"):
        list(petshop_cases(tmp_path))
