"""`medic import petshop SRC DEST`: the PetShop dataset's labelled issues as recordings.

SRC is the dataset folder (or one scenario folder): `<scenario>/graph.csv`, `<scenario>/noissue/
metrics.csv` (optional), `<scenario>/<split>/issue_<n>/{metrics.csv,target.json}` for every split
present (train, test, ...). One recording per issue:

- services and calls: the nodes of `graph.csv` (and of the metrics), names fitted to medic's
  (`common.service_name`); the kind (database, queue, external) read from X-Ray's `<name>_<AWS::type>`.
- metrics: every column as a gauge (`gauges.py`), stamped at the END of its CloudWatch period: a
  period's value is only known when it closes, so nothing after as_of hides inside a sample.
- the alert (how the dataset defines its SLO violation): `target.json` names the violated SLO (node,
  metric, statistic) and its instant. A CloudWatch alarm evaluates whole periods, so it fires when the
  first period lying mostly after that instant closes (period start ≥ instant − step/2); that close is
  the alert's startsAt and as_of. The violated value is in the annotations.
- history: the issue window's rows before as_of, preceded by `history` of the scenario's healthy
  reference shifted by whole days (time of day kept) to end where the issue window starts: its own
  `noissue/` data or, when it has none, a sibling scenario's, the one nearest in request volume
  (`petshop_reference.py`, the same choice as `medic bench rca --format petshop`). The healthy data
  was recorded months after the issues; the reference and the shift are said in the provenance.
- expect: the root-cause node; the fault kind when the injected parameter says latency
  (`dependency_latency`), otherwise null; remediation [] (the dataset records no fix).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import numpy as np

from agent.diagnosis import FaultKind
from evals.recordings.importers import gauges
from evals.recordings.importers.common import (
    DatasetError,
    Imported,
    clock,
    expectation,
    kebab,
    service_names,
    utc,
)
from evals.recordings.importers.petshop_reference import HealthyReference, healthy_reference
from evals.recordings.importers.petshop_table import Table, read_graph, read_table
from evals.recordings.importers.writing import write_recording
from evals.recordings.manifest import Manifest, Provenance, RecordedAlert, RecordedService

DAY = 86400.0
SOURCE = "PetShop dataset (amazon-science/petshop-root-cause-analysis), imported by `medic import petshop`"
# X-Ray names a node `<name>_<AWS::type>`; the type tells what kind of dependency it is.
_TYPE_KINDS = (
    ("::DynamoDB", "database"),
    ("Database::SQL", "database"),
    ("::RDS", "database"),
    ("::SQS", "queue"),
)


@dataclass(frozen=True)
class PetshopOptions:
    namespace: str = "petshop"
    history: timedelta = timedelta(hours=6)  # of healthy data before the issue window, when there is some


@dataclass(frozen=True)
class Issue:
    scenario: Path
    split: str
    folder: Path


def find_issues(src: Path) -> list[Issue]:
    """Every `<scenario>/<split>/<issue>/target.json` under SRC (SRC may also be one scenario)."""
    if not src.is_dir():
        raise DatasetError(f"{src}: not a folder (expected the PetShop dataset folder)")
    scenarios = (
        [src]
        if (src / "graph.csv").is_file()
        else sorted(d for d in src.iterdir() if (d / "graph.csv").is_file())
    )
    found = [
        Issue(scenario, split.name, issue)
        for scenario in scenarios
        for split in sorted(p for p in scenario.iterdir() if p.is_dir() and p.name != "noissue")
        for issue in sorted((p for p in split.iterdir() if (p / "target.json").is_file()), key=_natural)
    ]
    if not found:
        raise DatasetError(
            f"{src}: no <scenario>/graph.csv with <scenario>/<split>/<issue>/target.json beside it "
            "(the PetShop layout: low_traffic/graph.csv, low_traffic/train/issue_0/target.json, ...)"
        )
    return found


def import_petshop(src: Path, dest: Path, options: PetshopOptions | None = None) -> Iterator[Imported]:
    options = options or PetshopOptions()
    graphs: dict[Path, dict[str, list[str]]] = {}
    for issue in find_issues(src):
        began = time.perf_counter()
        if issue.scenario not in graphs:
            graphs[issue.scenario] = read_graph(issue.scenario / "graph.csv")
        reference = healthy_reference(issue.scenario)
        manifest, metrics, unmapped = _build(issue, graphs[issue.scenario], reference, options)
        folder = write_recording(dest, manifest.id, partial(_fill, manifest=manifest, metrics=metrics))
        trigger = (
            f"alert {manifest.alert.labels['alertname']} at {clock(manifest.as_of)}" if manifest.alert else ""
        )
        yield Imported(manifest.id, folder, time.perf_counter() - began, trigger, unmapped)


def _fill(work: Path, manifest: Manifest, metrics: gauges.MetricsFile) -> Manifest:
    metrics.write(work / "metrics" / "cloudwatch.om")
    return manifest


@dataclass(frozen=True)
class _Target:
    node: str
    metric: str
    statistic: str
    at: float
    cause: str
    command: str


def _target(path: Path) -> _Target:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        target, cause = doc["target"], doc["root_cause"]
        command = ((doc.get("metadata") or {}).get("reproducibility") or {}).get("command") or ""
        return _Target(
            str(target["node"]), str(target["metric"]), str(target["agg"]), float(target["timestamp"]),
            str(cause["node"]), str(command),
        )  # fmt: skip
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: not readable JSON: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetError(
            f"{path}: field {exc} missing or wrong (expected target.node/metric/agg/timestamp and root_cause.node)"
        ) from None


def _build(
    issue: Issue, graph: dict[str, list[str]], healthy: HealthyReference | None, options: PetshopOptions
) -> tuple[Manifest, gauges.MetricsFile, str | None]:
    target = _target(issue.folder / "target.json")
    window = read_table(issue.folder / "metrics.csv")
    step = window.step
    later = np.flatnonzero(window.starts >= target.at - step / 2)
    if later.size == 0:
        raise DatasetError(f"{window.path}: no period starts after target.timestamp {clock(utc(target.at))}")
    violated = int(later[0])
    as_of = float(window.starts[violated] + step)

    raw_nodes = list(graph) + [c[0] for c in window.columns] + [target.node, target.cause]
    raw_nodes += [c[0] for c in healthy.table.columns] if healthy else []
    names = service_names(list(dict.fromkeys(raw_nodes)), str(issue.scenario))
    metrics = gauges.MetricsFile()
    _add_rows(metrics, window, range(violated + 1), 0.0, step, names, options.namespace)
    history = (
        "no healthy data in this scenario nor in a sibling scenario of the same application: the "
        "history is the issue window's rows before the alert"
    )
    if healthy is not None:
        history = _add_history(metrics, healthy, float(window.starts[0]), options, names)

    kind, unmapped = _fault_kind(target)
    column = window.column(target.node, target.metric, target.statistic)
    value = float(window.values[violated, column]) if column is not None else math.nan
    alert = RecordedAlert(
        labels={
            "alertname": f"{target.metric.capitalize()}SLOViolation",
            "severity": "page",
            "namespace": options.namespace,
            "service": names[target.node],
        },
        annotations={
            "summary": f"{names[target.node]} {target.metric} SLO violated ({target.statistic} {_show(target.metric, value)}"
            f" in the {step / 60:g} min to {clock(utc(as_of))})",
        },
        starts_at=utc(as_of),
    )
    renamed = {raw: medic for raw, medic in names.items() if raw != medic}
    notes = (
        f"{issue.scenario.name}/{issue.split}/{issue.folder.name}: root cause node {target.cause!r}; injected: "
        f"{target.command or '(no command recorded)'}. Alert: target.json puts the SLO violation on "
        f"{target.node} {target.metric} ({target.statistic}) at {clock(utc(target.at))}; the alert fires when "
        f"the first {step / 60:g}-min period lying mostly after it closes, {clock(utc(as_of))}. Samples are "
        f"stamped at the end of their period. History: {history}."
        + (f" Names fitted to medic: {renamed}." if renamed else "")
    )
    manifest = Manifest(
        id=kebab("petshop", issue.scenario.name, issue.split, issue.folder.name),
        title=f"PetShop {issue.scenario.name} {issue.split} {issue.folder.name}: {target.node} {target.metric} SLO violated",
        as_of=utc(as_of),
        namespace=options.namespace,
        services={
            medic: RecordedService(calls=[names[c] for c in graph.get(raw, [])], kind=_service_kind(raw))
            for raw, medic in names.items()
        },
        alert=alert,
        expect=expectation(names[target.cause], kind),
        provenance=Provenance(source=SOURCE, notes=notes),
    )
    return manifest, metrics, unmapped


def _add_history(
    metrics: gauges.MetricsFile,
    reference: HealthyReference,
    window_start: float,
    options: PetshopOptions,
    names: dict[str, str],
) -> str:
    """Healthy rows shifted by whole days so that their periods end where the issue window starts."""
    healthy = reference.table
    step = healthy.step
    shift = math.floor((float(healthy.starts[-1]) + step - window_start) / DAY) * DAY
    ends = healthy.starts - shift + step
    keep = np.flatnonzero((ends <= window_start) & (ends > window_start - options.history.total_seconds()))
    if keep.size == 0:
        return f"{healthy.path} is shorter than a day before the issue window: not used"
    _add_rows(metrics, healthy, keep.tolist(), -shift, step, names, options.namespace)
    first, last = healthy.starts[keep[0]], healthy.starts[keep[-1]] + step
    whose = (
        f"{healthy.path.parent.name}/"
        if reference.own
        else f"the sibling scenario {reference.scenario.name}/{healthy.path.parent.name}/ (reference "
        f"{reference.label}: this scenario has no healthy data; the sibling nearest in request volume)"
    )
    return (
        f"{len(keep)} healthy rows of {whose} (recorded {clock(utc(first))} to {clock(utc(last))}) "
        f"shifted by {shift / DAY:+.0f} days to end where the issue window starts, then the issue window's rows"
    )


_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


def _add_rows(
    metrics: gauges.MetricsFile, table: Table, rows: range | list[int], shift: float, step: float,
    names: dict[str, str], namespace: str,
) -> None:  # fmt: skip
    for index, (node, metric, statistic) in enumerate(table.columns):
        name, extra, scale = _family(metric, statistic, step)
        labels = {"namespace": namespace, "service": names[node], **extra}
        for row in rows:
            metrics.add(
                name, labels, float(table.starts[row] + shift + step), float(table.values[row, index]) * scale
            )


def _family(metric: str, statistic: str, step: float) -> tuple[str, dict[str, str], float]:
    """Where a (metric, statistic) column goes: family, extra labels, scale."""
    percentile = _PERCENTILE.match(statistic)
    if metric == "latency" and percentile:
        return gauges.LATENCY, {"quantile": f"{float(percentile[1]) / 100:g}"}, 1.0
    if metric == "latency" and statistic == "Average":
        return gauges.LATENCY_AVERAGE, {}, 1.0
    if metric == "requests" and statistic == "Sum":
        return gauges.REQUESTS, {}, 1.0 / step
    if metric == "availability" and statistic == "Average":
        return gauges.SUCCESS, {}, 0.01
    return f"cloudwatch_{kebab(metric, statistic).replace('-', '_')}", {}, 1.0


def _service_kind(raw: str) -> str:
    if raw.endswith("_remote"):
        return "external"
    return next((kind for token, kind in _TYPE_KINDS if token in raw), "service")


_PARAMETER = re.compile(r"--name\s+['\"]?([^'\"\s]+)")


def _fault_kind(target: _Target) -> tuple[FaultKind | None, str | None]:
    """The injected fault as a medic kind: a parameter adding latency is `dependency_latency` (the node
    answers slower, with no resource signal); anything else has no medic kind and is reported."""
    found = _PARAMETER.search(target.command)
    parameter = found[1].rsplit("/", 1)[-1].lower() if found else ""
    if "delay" in parameter or "latency" in parameter:
        return "dependency_latency", None
    return None, parameter or target.command or "no command recorded"


def _show(metric: str, value: float) -> str:
    if math.isnan(value):
        return "not reported"
    return f"{value * 1000:.0f} ms" if metric == "latency" else f"{value:.2f}%"


def _natural(path: Path) -> tuple[str, int]:
    stem, _, number = path.name.rpartition("_")
    return (stem, int(number)) if number.isdigit() else (path.name, -1)
