"""Sock Shop (RCD layout) cases: labels from folders, one contiguous series, the tool's signal names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evals.bench.rca.cases_sockshop import raw_matrix, sockshop_cases, sockshop_healthy
from tests.evals.bench.rca_fixtures import write_sockshop


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sockshop(tmp_path_factory.mktemp("sockshop"))


def test_cases_are_labelled_by_their_folder(root: Path) -> None:
    cases = list(sockshop_cases(root))
    assert [(c.name, c.cause, c.fault) for c in cases] == [
        ("store-mem/1", "store", "mem"),
        ("web-cpu/1", "web", "cpu"),
    ]


def test_the_normal_segment_ends_one_step_before_the_injection_wherever_it_was_recorded(root: Path) -> None:
    for folder, recorded_after in (("store-mem", False), ("web-cpu", True)):
        raw, injected, after = raw_matrix(root / folder / "1")
        assert after is recorded_after
        assert np.all(np.diff(raw.times) == 1.0)  # contiguous: no days-long gap for an onset search to walk
        assert raw.times[200] == injected and raw.times[199] == injected - 1.0
        normal = np.loadtxt(root / folder / "1" / "normal.csv", delimiter=",", skiprows=1)
        np.testing.assert_array_equal(raw.values[:, :200], normal[:, 1:].T)  # values untouched


def test_columns_carry_the_shipped_signal_names(root: Path) -> None:
    window = next(iter(sockshop_cases(root))).load(frozenset({"metrics"}))
    names = {(k.entity, k.signal): k.kind for k in window.matrix.keys}
    assert names[("web", "latency_p99")] == "latency" and names[("web", "latency_p50")] == "latency"
    assert (
        names[("store", "memory_vs_limit")] == "resource"
        and names[("store-db", "cpu_vs_limit")] == "resource"
    )
    assert names[("web", "request_rate")] == "traffic"
    assert ("web", "cpu_per_request") in names and (
        "store",
        "cpu_per_request",
    ) not in names  # store reports no load
    web = {k.signal: window.matrix.values[i] for i, k in enumerate(window.matrix.keys) if k.entity == "web"}
    usual = np.median(web["request_rate"])  # the tool floors the load at its median (a drop is no hog)
    np.testing.assert_allclose(
        web["cpu_per_request"], web["cpu_vs_limit"] / np.fmax(web["request_rate"], usual)
    )
    assert [f"{k.entity}_{k.signal}" for k in window.raw.keys][:3] == ["web_cpu", "store_cpu", "store-db_cpu"]
    assert window.latest == window.matrix.times[-1] and window.injected == window.matrix.times[200]


def test_healthy_windows_are_the_normal_segments(root: Path) -> None:
    healthy = list(sockshop_healthy(root))
    assert [c.healthy for c in healthy] == [True, True]
    window = healthy[0].load(frozenset({"metrics"}))
    assert window.matrix.times.size == 200 and window.injected == window.matrix.times[100]
    assert window.latest == window.matrix.times[-1]


def test_a_folder_without_cases_says_which_layout_it_expected(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"<service>-<cpu\|mem>/<run>/\{normal,anomalous\}.csv"):
        list(sockshop_cases(tmp_path))
