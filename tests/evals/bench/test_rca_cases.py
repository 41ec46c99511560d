"""Loading the Sock Shop fault cases: one time-ordered series per case, fault time at the seam."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evals.bench.rca.cases import load_case, load_cases
from tests.evals.bench.rca_data import sockshop_dir


def test_all_fifty_cases_load_with_labels_from_the_folder_names() -> None:
    cases = load_cases(sockshop_dir())
    assert len(cases) == 50
    assert {(c.fault, sum(1 for d in cases if d.fault == c.fault)) for c in cases} == {
        ("cpu", 25),
        ("mem", 25),
    }
    assert {c.service for c in cases} == {"carts", "catalogue", "orders", "payment", "user"}
    for case in cases:
        assert np.all(np.diff(case.times) > 0), case.name
        assert case.values.shape == (case.times.size, len(case.columns))
        assert case.times[case.times >= case.fault_time].size > 100  # the anomalous segment follows
        assert case.times[case.times < case.fault_time].size > 100  # after a normal baseline


def test_orders_mem_5_normal_segment_is_rebased_to_end_just_before_the_fault() -> None:
    case = load_case(sockshop_dir() / "orders-mem" / "5")
    raw_normal = np.loadtxt(sockshop_dir() / "orders-mem" / "5" / "normal.csv", delimiter=",", skiprows=1)
    assert raw_normal[0, 0] > case.fault_time  # recorded after the fault in the raw data
    assert case.rebased
    n_normal = raw_normal.shape[0]
    assert case.times[n_normal - 1] == case.fault_time - 1.0
    assert case.times[n_normal] == case.fault_time
    np.testing.assert_array_equal(np.diff(case.times[:n_normal]), np.diff(raw_normal[:, 0]))
    np.testing.assert_array_equal(case.values[:n_normal], raw_normal[:, 1:])
    others = [c for c in load_cases(sockshop_dir()) if c.name != "orders-mem/5"]
    assert not any(c.rebased for c in others)


def test_signal_matrix_splits_columns_into_service_and_metric() -> None:
    matrix = load_case(sockshop_dir() / "carts-cpu" / "1").signal_matrix()
    pairs = {(k.entity, k.signal) for k in matrix.keys}
    assert ("carts-db", "cpu") in pairs and ("carts", "lat_90") in pairs and ("front-end", "mem") in pairs
    # the data set's own abbreviations are tagged by the bench, not guessed by the product's name patterns
    kinds = {k.signal: k.kind for k in matrix.keys}
    assert kinds["lod"] == "traffic" and kinds["lat_99"] == "latency" and kinds["mem"] == "resource"
    assert all(k.kind is not None for k in matrix.keys)
    assert matrix.values.shape == (len(matrix.keys), matrix.times.size)


def test_an_empty_folder_fails_with_where_the_data_is(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="sockshop-rcd"):
        load_cases(tmp_path)
