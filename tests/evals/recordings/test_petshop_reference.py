"""A PetShop scenario without `noissue/` borrows the healthy data of the sibling nearest in request volume;
the bench's cases and the importer's recordings both take it, and say which they took."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from evals.bench.rca.cases_petshop import petshop_cases, petshop_healthy
from evals.bench.rca.methods import METHODS
from evals.recordings.importers.petshop import PetshopOptions, import_petshop
from evals.recordings.importers.petshop_reference import healthy_reference
from evals.recordings.manifest import load_manifest

STEP = 300.0
NODES = ["Web", "Api", "Store"]
HEALTHY_START = 1_700_000_000.0
ISSUE_AT = 1_690_000_000.0  # the violation; issues were recorded before the healthy data


def _metrics(path: Path, starts: list[float], requests: float, nodes: list[str] = NODES) -> None:
    columns = [(n, m, s) for n in nodes for m, s in (("requests", "Sum"), ("latency", "p99"))]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        for header in range(3):
            out.writerow([["microservice", "metric", "statistic"][header], *(c[header] for c in columns)])
        for k, start in enumerate(starts):
            out.writerow(
                [
                    start,
                    *(requests * (1 + 0.01 * (k % 3)) if m == "requests" else 0.05 for _, m, _ in columns),
                ]
            )


def _scenario(root: Path, name: str, healthy_requests: float | None, issue_requests: float | None) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    with (folder / "graph.csv").open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["", *NODES])
        out.writerows([n, *(int((n, c) in {("Web", "Api"), ("Api", "Store")}) for c in NODES)] for n in NODES)
    if healthy_requests is not None:
        _metrics(
            folder / "noissue" / "metrics.csv",
            [HEALTHY_START + i * STEP for i in range(300)],
            healthy_requests,
        )
    if issue_requests is not None:
        issue = folder / "train" / "issue_0"
        _metrics(issue / "metrics.csv", [ISSUE_AT - 400 + i * STEP for i in range(5)], issue_requests)
        target = {"node": "Web", "metric": "latency", "agg": "p99", "timestamp": ISSUE_AT}
        doc = {"target": target, "root_cause": {"node": "Store", "metric": None}}
        (issue / "target.json").write_text(json.dumps(doc))


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """`busy` and `quiet` ship healthy data at very different volumes; `varying` has none, and its
    issue's traffic is close to `quiet`'s (alphabetically after `busy`, so order does not choose it)."""
    root = tmp_path / "petshop"
    _scenario(root, "busy", healthy_requests=5000.0, issue_requests=5000.0)
    _scenario(root, "quiet", healthy_requests=400.0, issue_requests=None)
    _scenario(root, "varying", healthy_requests=None, issue_requests=350.0)
    return root


def test_a_scenario_without_healthy_data_takes_the_sibling_nearest_in_request_volume(dataset: Path) -> None:
    own = healthy_reference(dataset / "busy")
    borrowed = healthy_reference(dataset / "varying")
    assert own is not None and own.own and own.label == "own"
    assert borrowed is not None and borrowed.label == "sibling:quiet"
    assert borrowed.table.path == dataset / "quiet" / "noissue" / "metrics.csv"


def test_the_bench_case_says_which_reference_it_used_and_its_history_comes_from_it(dataset: Path) -> None:
    cases = {c.name: c for c in petshop_cases(dataset)}
    assert cases["busy/train/issue_0"].groups["reference"] == "own"
    case = cases["varying/train/issue_0"]
    assert case.groups == {"scenario": "varying", "reference": "sibling:quiet"}
    window = case.load(frozenset({"metrics"}))
    history = window.matrix.times < ISSUE_AT - 400
    assert history.sum() > 10  # the lookback filled by the sibling's rows, shifted to before the window
    assert window.traversal is not None and window.traversal.healthy["Web"].size == 300
    # healthy windows are cut from each scenario's OWN noissue only
    assert {c.groups["scenario"] for c in petshop_healthy(dataset)} == {"busy"}


def test_the_recording_takes_the_same_reference_and_says_so(dataset: Path, tmp_path: Path) -> None:
    imported = {
        r.id: r.folder
        for r in import_petshop(dataset, tmp_path / "out", PetshopOptions(history=timedelta(hours=1)))
    }
    notes = load_manifest(imported["petshop-varying-train-issue-0"]).provenance.notes
    assert "sibling:quiet" in notes and "12 healthy rows" in notes


def test_a_column_the_reference_lacks_is_absent_from_the_history_and_a_lone_scenario_has_none(
    tmp_path: Path,
) -> None:
    root = tmp_path / "petshop"
    _scenario(root, "other", healthy_requests=None, issue_requests=None)
    starts = [HEALTHY_START + i * STEP for i in range(300)]
    _metrics(root / "other" / "noissue" / "metrics.csv", starts, 400.0, nodes=NODES[:2])  # no Store
    _scenario(root, "varying", healthy_requests=None, issue_requests=350.0)
    window = next(c for c in petshop_cases(root) if c.name.startswith("varying")).load(frozenset({"metrics"}))
    series = {(k.entity, k.signal): v for k, v in zip(window.matrix.keys, window.matrix.values, strict=True)}
    before = window.matrix.times < ISSUE_AT - 400
    assert np.isfinite(series[("Web", "requests")][before]).all()
    assert np.isnan(series[("Store", "requests")][before]).all()
    assert np.isfinite(series[("Store", "requests")][~before]).all()
    for method in ("medic-found", "traversal"):
        METHODS[method](window)  # a partial reference is read without failing
    alone = tmp_path / "alone"
    _scenario(alone, "varying", healthy_requests=None, issue_requests=350.0)
    assert healthy_reference(alone / "varying") is None
    assert next(iter(petshop_cases(alone))).groups["reference"] == "none"
