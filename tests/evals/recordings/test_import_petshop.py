"""`medic import petshop`: a tiny dataset in PetShop's published layout (two labelled issues in two
splits, healthy `noissue/` data) becomes one recording per issue, as the dataset defines it."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.recordings.importers.common import DatasetError
from evals.recordings.importers.petshop import PetshopOptions, import_petshop
from evals.recordings.manifest import load_manifest
from evals.sandbox.prometheus import find_binary
from server.cli import app

STEP = 300
FRONT, FINDER, SHELF, QUERY = (
    "Front",
    "Finder_AWS::ECS::Fargate",
    "Shelf_AWS::DynamoDB::Table",
    "Shelf Query_remote",
)
NODES = [FRONT, FINDER, SHELF, QUERY]
EDGES = {(FRONT, FINDER), (FINDER, SHELF), (FINDER, QUERY)}
COLUMNS = [(n, m, s) for n in NODES for m, s in (("latency", "Average"), ("latency", "p99"), ("requests", "Sum"), ("availability", "Average"))]  # fmt: skip
W_LATENCY = 1_700_000_040  # first period of the latency issue's window
W_ERRORS = W_LATENCY + 3 * 86400 + 1200
HEALTHY_START = W_LATENCY + 60 * 86400 + 60  # recorded two months later, a minute off the issues' grid
HEALTHY_ROWS = 26 * 12  # 26 hours
SAMPLE = re.compile(r"^(\w+)\{(.*)\} (\S+) (\S+)$")


def _value(node: str, metric: str, stat: str, start: float, faulty: str | None) -> str:
    if metric == "requests":
        return str(600 + start % 7)
    if metric == "availability":
        return "93.5" if faulty == "errors" and node in (FRONT, FINDER) else "100.0"
    if node == QUERY:
        return ""  # CloudWatch leaves cells empty
    slow = faulty == "latency" and node in (FRONT, FINDER)
    return str((0.9 if slow else 0.05 + (start % 5) / 1000) * (2 if stat == "p99" else 1))


def _metrics(path: Path, starts: list[float], faulty_from: float | None, kind: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        for i, title in enumerate(("microservice", "metric", "statistic")):
            out.writerow([title, *(c[i] for c in COLUMNS)])
        out.writerow(["unix_timestamp", *([""] * len(COLUMNS))])
        for start in starts:
            faulty = kind if faulty_from is not None and start >= faulty_from else None
            out.writerow([f"{start:.1f}", *(_value(n, m, s, start, faulty) for n, m, s in COLUMNS)])


def _issue(
    folder: Path, window: int, violated_at: int, metric: str, parameter: str, faulty_from: int
) -> None:
    _metrics(folder / "metrics.csv", [window + i * STEP for i in range(5)], faulty_from, "latency" if metric == "latency" else "errors")  # fmt: skip
    command = f"aws ssm put-parameter --name '/shop/{parameter}' --value '7' --overwrite"
    target = {"node": FRONT, "metric": metric, "agg": "Average", "timestamp": violated_at}
    doc = {"target": target, "root_cause": {"node": FINDER, "metric": None}, "metadata": {"reproducibility": {"command": command}}}  # fmt: skip
    (folder / "target.json").write_text(json.dumps(doc))


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "petshop"
    scenario = root / "some_traffic"
    scenario.mkdir(parents=True)
    with (scenario / "graph.csv").open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["", *NODES])
        out.writerows([caller, *(int((caller, callee) in EDGES) for callee in NODES)] for caller in NODES)
    _metrics(
        scenario / "noissue" / "metrics.csv",
        [HEALTHY_START + i * STEP for i in range(HEALTHY_ROWS)],
        None,
        None,
    )
    # the period containing the violation starts 200 s before it (mostly before): the next one alerts
    _issue(scenario / "train" / "issue_0", W_LATENCY, W_LATENCY + STEP + 200, "latency", "finderdelay", W_LATENCY + 2 * STEP)  # fmt: skip
    # ... here 100 s before it (mostly after): that period alerts
    _issue(scenario / "test" / "issue_0", W_ERRORS, W_ERRORS + STEP + 100, "availability", "findererrorpercent", W_ERRORS + STEP)  # fmt: skip
    return root


def _samples(folder: Path) -> list[tuple[str, dict[str, str], float, float]]:
    found = []
    for line in (folder / "metrics" / "cloudwatch.om").read_text().splitlines():
        if (match := SAMPLE.match(line)) is not None:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match[2]))
            found.append((match[1], labels, float(match[3]), float(match[4])))
    return found


def _import(dataset: Path, dest: Path, history: timedelta = timedelta(hours=2)) -> dict[str, Path]:
    return {r.id: r.folder for r in import_petshop(dataset, dest, PetshopOptions(history=history))}


def test_one_recording_per_labelled_issue_with_the_label_as_expect(dataset: Path, tmp_path: Path) -> None:
    folders = _import(dataset, tmp_path / "out")
    assert sorted(folders) == ["petshop-some-traffic-test-issue-0", "petshop-some-traffic-train-issue-0"]
    latency, errors = (load_manifest(folders[f"petshop-some-traffic-{s}-issue-0"]) for s in ("train", "test"))
    for manifest in (latency, errors):
        assert manifest.expect is not None
        assert manifest.expect.root_cause.service == FINDER
        assert manifest.expect.remediation == []
        assert any(f.target == "kube-system/*" and f.action == "*" for f in manifest.expect.forbidden)
        assert manifest.services[FRONT].calls == [FINDER]
        assert sorted(manifest.services[FINDER].calls) == sorted([SHELF, "Shelf-Query_remote"])
        assert (
            manifest.services[SHELF].kind == "database"
            and manifest.services["Shelf-Query_remote"].kind == "external"
        )
    assert latency.expect is not None and latency.expect.root_cause.kind == "dependency_latency"
    assert errors.expect is not None and errors.expect.root_cause.kind is None  # added errors: no medic kind


def test_the_alert_fires_when_the_first_period_mostly_after_the_violation_closes(
    dataset: Path, tmp_path: Path
) -> None:
    folders = _import(dataset, tmp_path / "out")
    for split, window, periods, alertname in (("train", W_LATENCY, 3, "LatencySLOViolation"), ("test", W_ERRORS, 2, "AvailabilitySLOViolation")):  # fmt: skip
        folder = folders[f"petshop-some-traffic-{split}-issue-0"]
        manifest = load_manifest(folder)
        expected = window + periods * STEP
        assert manifest.alert is not None and manifest.alert.labels["alertname"] == alertname
        assert manifest.as_of.timestamp() == manifest.alert.starts_at.timestamp() == expected
        assert manifest.alert.labels["service"] == FRONT
        stamps = [t for _, _, _, t in _samples(folder)]
        assert max(stamps) == expected  # the violating period, stamped when it closed, and nothing later
    front_p99 = [(t, v) for n, labels, v, t in _samples(folders["petshop-some-traffic-train-issue-0"])
                 if n == "request_latency_seconds" and labels == {"namespace": "petshop", "service": FRONT, "quantile": "0.99"}]  # fmt: skip
    assert front_p99[-1] == (W_LATENCY + 3 * STEP, 1.8)  # the slow period [W+600, W+900)
    assert front_p99[-2][1] < 0.2  # the period before it was healthy


def test_healthy_history_is_shifted_by_whole_days_to_end_before_the_window(
    dataset: Path, tmp_path: Path
) -> None:
    folder = _import(dataset, tmp_path / "out")["petshop-some-traffic-train-issue-0"]
    healthy = sorted({t for _, _, _, t in _samples(folder) if t <= W_LATENCY})
    assert len(healthy) == 24 and healthy[-1] > W_LATENCY - STEP  # two hours, right up to the window
    recorded_ends = {(HEALTHY_START + i * STEP + STEP) % 86400 for i in range(HEALTHY_ROWS)}
    assert {t % 86400 for t in healthy} <= recorded_ends  # the time of day is kept
    requests = {
        t: v
        for n, labels, v, t in _samples(folder)
        if n == "requests_per_second" and labels["service"] == FRONT
    }
    sources: dict[float, float] = {
        HEALTHY_START + i * STEP: (600 + (HEALTHY_START + i * STEP) % 7) / STEP for i in range(HEALTHY_ROWS)
    }
    shifts = [  # the whole-day shifts under which every healthy sample is its source period's, per second
        days for days in range(50, 70)
        if all(sources.get(t - STEP + days * 86400) == pytest.approx(requests[t]) for t in healthy)
    ]  # fmt: skip
    assert len(shifts) == 1
    notes = load_manifest(folder).provenance.notes
    assert "shifted by" in notes and "days" in notes


def test_without_healthy_data_the_history_is_the_window_before_the_alert(
    dataset: Path, tmp_path: Path
) -> None:
    for path in (dataset / "some_traffic" / "noissue").iterdir():
        path.unlink()
    (dataset / "some_traffic" / "noissue").rmdir()
    folder = _import(dataset, tmp_path / "out")["petshop-some-traffic-train-issue-0"]
    assert sorted({t for *_, t in _samples(folder)}) == [W_LATENCY + i * STEP for i in (1, 2, 3)]
    assert "no healthy data" in load_manifest(folder).provenance.notes


def test_metrics_backfill_into_a_tsdb_sample_for_sample(dataset: Path, tmp_path: Path) -> None:
    folder = _import(dataset, tmp_path / "out")["petshop-some-traffic-test-issue-0"]
    om = folder / "metrics" / "cloudwatch.om"
    subprocess.run(
        [find_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", "-q", str(om), str(tmp_path / "tsdb")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    metas = [json.loads(p.read_text()) for p in (tmp_path / "tsdb").glob("*/meta.json")]
    assert sum(m["stats"]["numSamples"] for m in metas) == len(_samples(folder)) > 0


def test_a_broken_label_is_one_error_naming_the_file_and_field(dataset: Path, tmp_path: Path) -> None:
    target = dataset / "some_traffic" / "test" / "issue_0" / "target.json"
    doc = json.loads(target.read_text())
    del doc["target"]["timestamp"]
    target.write_text(json.dumps(doc))
    with pytest.raises(DatasetError, match=r"target\.json: field 'timestamp' missing"):
        _import(dataset, tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"no <scenario>/graph\.csv"):
        _import(tmp_path / "empty", tmp_path / "elsewhere")


def test_the_command_imports_every_split_and_summarises(dataset: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["import", "petshop", str(dataset), str(tmp_path / "out"), "--history", "1h"])
    assert result.exit_code == 0, result.output
    assert "2 recordings" in result.output and "findererrorpercent" in result.output
    assert len(list((tmp_path / "out").glob("*/manifest.yaml"))) == 2
    again = runner.invoke(app, ["import", "petshop", str(dataset), str(tmp_path / "out")])
    assert again.exit_code == 0, again.output  # importing again replaces the recordings
    bad = runner.invoke(app, ["import", "petshop", str(tmp_path / "nowhere"), str(tmp_path / "out")])
    assert bad.exit_code == 2 and "not a folder" in bad.output
