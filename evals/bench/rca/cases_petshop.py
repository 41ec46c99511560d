"""PetShop (amazon-science/petshop-root-cause-analysis) in the common case model, from its own layout.

Every `<scenario>/<split>/issue_<n>/` with `metrics.csv` and `target.json`, for whatever splits exist
(train, test, ...), beside `<scenario>/graph.csv` and, when present, `<scenario>/noissue/metrics.csv`
(healthy operation, recorded months after the issues). Tables are read by the importer's reader
(three header rows, empty values as NaN); rows are CloudWatch periods, stamped here at their END.

The healthy reference of a scenario is its own noissue or, when it has none, the noissue of the
sibling scenario nearest in request volume (`petshop_reference.healthy_reference`, shared with the
importer); each case says which in its groups (`reference`: `own`, `sibling:<folder>` or `none`).
A case: the issue's rows up to `latest`, preceded by the reference's rows shifted by whole days (time
of day kept) to end where the issue window starts, over the shipped tool's default lookback (as the
recordings of `medic import petshop` hold them); the traversal peer's detectors are fitted on every
reference row. Healthy windows for specificity are cut from a scenario's OWN noissue only.
`injected` is the violation instant of `target.json` (the data set records no injection instant;
the violation is what its methods are given); `latest` is when a CloudWatch alarm on the SLO fires:
the close of the first period lying mostly after it. The fault type is the violated SLO metric
(latency or availability); the scenario and the reference are breakdowns.

Columns in the shipped tool's vocabulary (`tools/anomaly/incident_rank.py` RANKED_SIGNALS):
- latency statistics → latency: `p99` → `latency_p99`, the others `latency_<stat>` (latency, not
  ranked: the shipped tool ranks the p99);
- availability (percent, higher is better) → `error_ratio` = 1 − availability / 100;
- requests (Sum per period) → `requests`, a count per period (traffic, not ranked; noise "count").
X-Ray's client-side nodes (`*_client`, `*_remote`) are a caller's view of a service, so their
latency and errors are `callers_latency_*` / `callers_error_ratio`. Where the graph gives such a node
no edge to the service behind it, it gets edges to every other (server-side) callee of its callers:
the service it stands for is one of them, so its anomaly can be explained by theirs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from evals.bench.rca.case_model import Calls, CaseWindow, FloatArray, RcaCase, SloTarget, Source
from evals.bench.rca.traversal import TraversalInput
from evals.recordings.importers.petshop_reference import HealthyReference, healthy_reference
from evals.recordings.importers.petshop_table import Column, Table, read_graph, read_table
from tools.anomaly.rank import SeriesKey, SignalKind, SignalMatrix
from tools.anomaly.signals import metric_key

DAY = 86400.0
LOOKBACK_S = 2 * 3600.0  # the shipped tool's default lookback (`rank_root_causes` lookback="2h")
HEALTHY_STRIDE = 12  # rows between two healthy windows cut from noissue (an hour at 5-min rows)
CLIENT_SIDE = ("_client", "_remote")  # X-Ray's suffixes for a caller's view of a service
LAYOUT = (
    "<scenario>/graph.csv and <scenario>/<split>/issue_<n>/{metrics.csv,target.json} (the PetShop data set)"
)


@dataclass(frozen=True)
class Scenario:
    folder: Path
    graph: dict[str, list[str]]  # as published (caller -> callees)
    reference: HealthyReference | None  # the history's and the traversal's fit's healthy rows

    @property
    def healthy(self) -> Table | None:
        """Its own noissue/metrics.csv (healthy windows are cut only from it)."""
        return self.reference.table if self.reference is not None and self.reference.own else None

    @property
    def reference_label(self) -> str:
        return self.reference.label if self.reference is not None else "none"


@lru_cache(maxsize=8)
def scenario(folder: Path) -> Scenario:
    return Scenario(folder, read_graph(folder / "graph.csv"), healthy_reference(folder))


def client_side(node: str) -> bool:
    return node.endswith(CLIENT_SIDE)


def with_client_edges(graph: dict[str, list[str]]) -> Calls:
    """The published graph plus, for each client-side node without callees, edges to its callers'
    other server-side callees (module docstring)."""
    calls: Calls = {caller: list(callees) for caller, callees in graph.items()}
    for node in graph:
        if not client_side(node) or graph[node]:
            continue
        behind = [
            callee
            for caller, callees in graph.items()
            if node in callees
            for callee in callees
            if callee != node and not client_side(callee)
        ]
        calls[node] = list(dict.fromkeys(behind))
    return calls


def _signal(node: str, metric: str, statistic: str) -> tuple[str, SignalKind] | None:
    prefix = "callers_" if client_side(node) else ""
    if metric == "latency":
        return f"{prefix}latency_{statistic.lower()}", "latency"
    if metric == "availability" and statistic == "Average":
        return f"{prefix}error_ratio", "errors"
    if metric == "requests" and statistic == "Sum":
        return "requests", "traffic"
    return None


def _in_vocabulary(column: Column, values: FloatArray) -> tuple[SeriesKey, FloatArray] | None:
    node, metric, statistic = column
    named = _signal(node, metric, statistic)
    if named is None:
        return None
    signal, kind = named
    if kind == "errors":
        return metric_key(node, signal, kind), 1.0 - values / 100.0
    if kind == "traffic":  # requests per period: a count (the ranking's Poisson floor applies)
        return SeriesKey(node, signal, kind, noise="count"), values
    return metric_key(node, signal, kind), values


@dataclass(frozen=True)
class Rows:
    """Columns (node, metric, statistic) × end-stamped times, from one or more tables."""

    columns: list[Column]
    ends: FloatArray
    values: FloatArray  # columns × times

    def series(self, node: str, metric: str, statistic: str) -> FloatArray:
        column = (node, metric, statistic)
        return (
            self.values[self.columns.index(column)]
            if column in self.columns
            else np.full(self.ends.size, np.nan)
        )


def stack(parts: list[tuple[Table, FloatArray, float]]) -> Rows:
    """Rows of several (table, row indexes, time shift) parts on their union of columns."""
    columns = list(dict.fromkeys(c for table, _, _ in parts for c in table.columns))
    where = {c: i for i, c in enumerate(columns)}
    blocks, ends = [], []
    for table, rows, shift in parts:
        index = rows.astype(np.int64)
        block = np.full((len(columns), index.size), np.nan)
        for j, column in enumerate(table.columns):
            block[where[column]] = table.values[index, j]
        blocks.append(block)
        ends.append(table.starts[index] + table.step + shift)
    return Rows(columns, np.concatenate(ends), np.hstack(blocks))


def matrices(rows: Rows) -> tuple[SignalMatrix, SignalMatrix]:
    """(the matrix in the shipped vocabulary, the raw columns) of `rows`."""
    mapped = [m for c, v in zip(rows.columns, rows.values, strict=True) if (m := _in_vocabulary(c, v))]
    vocabulary = SignalMatrix(rows.ends, [k for k, _ in mapped], np.vstack([v for _, v in mapped]))
    raw_keys = [SeriesKey(n, f"{m}_{s}", (_signal(n, m, s) or ("", "other"))[1]) for n, m, s in rows.columns]
    return vocabulary, SignalMatrix(rows.ends, raw_keys, rows.values)


def history(
    healthy: Table | None, window_start: float, latest: float
) -> list[tuple[Table, FloatArray, float]]:
    """Healthy rows shifted by whole days to end where the issue window starts, within the lookback."""
    if healthy is None:
        return []
    step = healthy.step
    shift = math.floor((float(healthy.starts[-1]) + step - window_start) / DAY) * DAY
    ends = healthy.starts - shift + step
    keep = np.flatnonzero((ends <= window_start) & (ends > latest - LOOKBACK_S))
    return [(healthy, keep.astype(np.float64), -shift)] if keep.size else []


def read_target(path: Path) -> tuple[SloTarget, str]:
    """The violated SLO and the root-cause node of `target.json`."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        target = doc["target"]
        slo = SloTarget(
            str(target["node"]), str(target["metric"]), str(target["agg"]), float(target["timestamp"])
        )
        return slo, str(doc["root_cause"]["node"])
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not readable JSON: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{path}: field {exc} missing or wrong (expected target.node/metric/agg/timestamp, root_cause.node)"
        ) from None


def first_period_after(table: Table, at: float) -> int:
    """The first row whose period lies mostly after `at` (where a CloudWatch alarm on it fires)."""
    later = np.flatnonzero(table.starts >= at - table.step / 2)
    if later.size == 0:
        raise ValueError(f"{table.path}: no period starts after the violation at {at:.0f}")
    return int(later[0])


def _traversal_input(
    graph: dict[str, list[str]], target: SloTarget, fit: Rows, window: Rows, first_row: int
) -> TraversalInput:
    nodes = sorted({c[0] for c in window.columns} | {c[0] for c in fit.columns})
    pick = (target.metric, target.statistic)
    return TraversalInput(
        graph=graph,
        target=target.node,
        healthy={n: fit.series(n, *pick) for n in nodes},
        window={n: window.series(n, *pick) for n in nodes},
        first_row=first_row,
    )


def issue_window(issue: Path, sources: frozenset[Source]) -> CaseWindow:
    """One issue's window (metrics only: the data set has no traces or logs)."""
    scene = scenario(issue.parent.parent)
    target, _ = read_target(issue / "target.json")
    table = read_table(issue / "metrics.csv")
    step = table.step
    violated = first_period_after(table, target.at)
    latest = float(table.starts[violated] + step)
    own = np.arange(violated + 1, dtype=np.float64)
    reference = scene.reference.table if scene.reference is not None else None
    rows = stack([*history(reference, float(table.starts[0]), latest), (table, own, 0.0)])
    keep = rows.ends > latest - LOOKBACK_S
    rows = Rows(rows.columns, rows.ends[keep], rows.values[:, keep])
    matrix, raw = matrices(rows)
    peer = None
    if reference is not None:
        fit = stack([(reference, np.arange(len(reference.starts), dtype=np.float64), 0.0)])
        whole = stack([(table, np.arange(len(table.starts), dtype=np.float64), 0.0)])
        peer = _traversal_input(scene.graph, target, fit, whole, violated)
    return CaseWindow(
        matrix, raw, with_client_edges(scene.graph), target.at, latest, target=target, traversal=peer
    )


def healthy_window(folder: Path, row: int, target: SloTarget, sources: frozenset[Source]) -> CaseWindow:
    """A window cut from noissue shaped like an issue: `row` plays the violated period, the pseudo
    violation lies in the last quarter of the period before it, the window holds two rows before
    and two after it, and the traversal's detectors are fitted on every healthy row before the window."""
    scene = scenario(folder)
    healthy = scene.healthy
    assert healthy is not None
    step = healthy.step
    at = float(healthy.starts[row]) - step / 4
    latest = float(healthy.starts[row] + step)
    lookback = np.flatnonzero(
        (healthy.starts + step > latest - LOOKBACK_S) & (healthy.starts + step <= latest)
    )
    matrix, raw = matrices(stack([(healthy, lookback.astype(np.float64), 0.0)]))
    fit = stack([(healthy, np.arange(row - 2, dtype=np.float64), 0.0)])
    window = stack([(healthy, np.arange(row - 2, row + 3, dtype=np.float64), 0.0)])
    pseudo = SloTarget(target.node, target.metric, target.statistic, at)
    peer = _traversal_input(scene.graph, pseudo, fit, window, 2)
    return CaseWindow(matrix, raw, with_client_edges(scene.graph), at, latest, target=pseudo, traversal=peer)


def _natural(path: Path) -> tuple[str, int]:
    stem, _, number = path.name.rpartition("_")
    return (stem, int(number)) if number.isdigit() else (path.name, -1)


def scenario_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder (expected {LAYOUT})")
    found = (
        [root]
        if (root / "graph.csv").is_file()
        else sorted(d for d in root.iterdir() if (d / "graph.csv").is_file())
    )
    if not found:
        raise FileNotFoundError(f"no PetShop scenario under {root} (expected {LAYOUT})")
    return found


def issue_folders(folder: Path) -> list[Path]:
    splits = sorted(p for p in folder.iterdir() if p.is_dir() and p.name != "noissue")
    return [
        i
        for s in splits
        for i in sorted((p for p in s.iterdir() if (p / "target.json").is_file()), key=_natural)
    ]


def petshop_cases(root: Path) -> Iterator[RcaCase]:
    """Every issue of every split present, in scenario, split and issue order."""
    folders = [(f, i) for f in scenario_folders(root) for i in issue_folders(f)]
    if not folders:
        raise FileNotFoundError(f"no issues under {root} (expected {LAYOUT})")
    for folder, issue in folders:
        target, cause = read_target(issue / "target.json")
        name = f"{folder.name}/{issue.parent.name}/{issue.name}"
        groups = {"scenario": folder.name, "reference": scenario(folder).reference_label}
        yield RcaCase(name, cause, target.metric, partial(issue_window, issue), groups)


def petshop_healthy(root: Path) -> Iterator[RcaCase]:
    """Windows cut from each scenario's noissue data, from half-way to the end every `HEALTHY_STRIDE`
    rows (the first half is fitting data, as in the published protocol), once per SLO its issues name."""
    for folder in scenario_folders(root):
        healthy = scenario(folder).healthy
        if healthy is None:
            continue
        slos = {
            (t.node, t.metric, t.statistic): t
            for t in (read_target(i / "target.json")[0] for i in issue_folders(folder))
        }
        for row in range(len(healthy.starts) // 2, len(healthy.starts) - 2, HEALTHY_STRIDE):
            for _, target in sorted(slos.items()):
                name = f"{folder.name}/noissue/row_{row}/{target.metric}"
                load = partial(healthy_window, folder, row, target)
                yield RcaCase(name, None, "healthy", load, {"scenario": folder.name, "fault": target.metric})
