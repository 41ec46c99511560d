"""Pod logs as rows of the ranking's `SignalMatrix`: per service, a few counts on the ranking's grid.

Lines are folded into records (a stack trace is one record), mined into templates (`templates.py`)
and counted per service over a trailing window of `window_s` that ends at each bucket's end (bucket i
is [times[i], times[i] + step_s)): a value is "records in the last minute" whatever the grid's step,
and its noise is Poisson's (`noise="count"`, the ranking's floor √λ). Rows per service:

- `log_errors` (kind errors): error-level records (ERROR, FATAL, exceptions; a stack trace once);
- `log_new_errors` (kind errors): error records of templates the reference (fault-free lines) never
  had, or, without a reference, that first appeared a window after the lines begin;
- `log_template` (kind other), one per ordinary (non-error) template among the `top_templates` whose
  share of the service's records moved the most: the template's records at the service's usual
  volume (its share times the service's median records per window), so a load change moves nothing
  and a statement that stops (an early return, an exception thrown before it) or surges does.

Errors propagate to callers in the call graph (a caller logs its callee's failure); a vanished or
surging ordinary statement is the service's own. A window not fully inside the span the lines cover
(before a service's first readable line, after the last line read) is NaN: no lines there means
nothing was read, not that nothing happened. A mix-wide distance (one row per service) was tried and
left out: against a reference or the window's own mix it moves with the workload's mix and flagged
a healthy service in nearly every case.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from tools.anomaly.baseline import FloatArray
from tools.anomaly.signal_matrix import SeriesKey, SignalMatrix
from tools.logs.templates import LogRecord, TemplateMiner, fold_records

MIN_SHARE_LINES = 10  # a window with fewer records of the service tells no share


class LogLine(NamedTuple):
    """One log line of a service: `message` is the application's line (no Kubernetes timestamp)."""

    entity: str
    time: float
    message: str


@dataclass(frozen=True)
class LogSignalConfig:
    window_s: float = 60.0  # records are counted over the last minute at each point
    top_templates: int = 3  # per service, the ordinary templates whose share moved most get a row


DEFAULT_LOG_SIGNALS = LogSignalConfig()


@dataclass
class _Mined:
    """Records per (entity, template) per bucket of one grid, and the span the lines cover."""

    per_template: dict[str, dict[int, FloatArray]]
    first_seen: dict[int, float]
    first: float
    last: float


def log_signals(
    lines: Iterable[tuple[str, float, str]],
    times: npt.ArrayLike,
    step_s: float,
    reference: Iterable[tuple[str, float, str]] = (),
    *,
    covered_from: Mapping[str, float] | None = None,
    config: LogSignalConfig = DEFAULT_LOG_SIGNALS,
) -> SignalMatrix:
    """The log rows of every service in `lines` on the grid `times` (buckets of `step_s`).

    `reference` (fault-free lines, any times) teaches the templates that are usual, so an error
    template it never had is new. `covered_from` says, per service, from when its lines are complete
    (a pod log read by its last N lines starts late): earlier windows are NaN.
    """
    matrix, _ = log_signals_with_reference(
        lines, times, step_s, reference, None, covered_from=covered_from, config=config
    )
    return matrix


def log_signals_with_reference(
    lines: Iterable[tuple[str, float, str]],
    times: npt.ArrayLike,
    step_s: float,
    reference: Iterable[tuple[str, float, str]],
    reference_times: npt.ArrayLike | None,
    *,
    covered_from: Mapping[str, float] | None = None,
    config: LogSignalConfig = DEFAULT_LOG_SIGNALS,
) -> tuple[SignalMatrix, SignalMatrix | None]:
    """`log_signals`, and the same rows (same keys, one miner) over the reference lines on
    `reference_times` (None: not wanted): the `reference` matrix of `rank_root_causes`, the baseline
    of rows whose pre-onset points are too few."""
    grid = np.asarray(times, dtype=np.float64)
    miner = TemplateMiner()
    ref_records = [(r, miner.add(r.entity, r.message, r.level)) for r in fold_records(_by_time(reference))]
    records = [(r, miner.add(r.entity, r.message, r.level)) for r in fold_records(_by_time(lines))]
    usual = Counter(template for _, template in ref_records)
    mined = _bucket(records, grid, step_s)
    rows = _Rows(miner, usual, config, step_s)
    specs = rows.choose(mined)
    keys = [key for key, _ in specs]
    covered = covered_from or {}
    volumes = rows.volumes(mined, grid, covered)
    matrix = SignalMatrix(times=grid, keys=keys, values=rows.values(specs, mined, grid, covered, volumes))
    if reference_times is None or not ref_records:
        return matrix, None
    ref_grid = np.asarray(reference_times, dtype=np.float64)
    ref_values = rows.values(specs, _bucket(ref_records, ref_grid, step_s), ref_grid, {}, volumes)
    return matrix, SignalMatrix(times=ref_grid, keys=keys, values=ref_values)


def _by_time(lines: Iterable[tuple[str, float, str]]) -> list[tuple[str, float, str]]:
    return sorted(lines, key=lambda line: line[1])


def _bucket(records: list[tuple[LogRecord, int]], grid: FloatArray, step_s: float) -> _Mined:
    per: dict[str, dict[int, FloatArray]] = {}
    first_seen: dict[int, float] = {}
    if not records:
        return _Mined(per, first_seen, np.inf, -np.inf)
    when = np.array([r.time for r, _ in records], dtype=np.float64)
    index = np.searchsorted(grid, when, side="right") - 1
    inside = (index >= 0) & (when < grid[np.clip(index, 0, None)] + step_s) if grid.size else index < -1
    for (record, template), i, ok in zip(records, index, inside, strict=True):
        first_seen.setdefault(template, record.time)
        if not ok:
            continue
        row = per.setdefault(record.entity, {}).get(template)
        if row is None:
            row = per[record.entity][template] = np.zeros(grid.size)
        row[i] += 1
    return _Mined(per, first_seen, float(when.min()), float(when.max()))


_Spec = tuple[SeriesKey, frozenset[int]]


class _Rows:
    """Chooses each service's rows from the incident's lines, then computes them on any grid."""

    def __init__(
        self, miner: TemplateMiner, usual: Counter[int], cfg: LogSignalConfig, step_s: float
    ) -> None:
        self._templates = {t.id: t for t in miner.templates()}
        self._usual, self._cfg, self._step = usual, cfg, step_s
        self._width = max(1, round(max(cfg.window_s, step_s) / step_s))

    def choose(self, mined: _Mined) -> list[_Spec]:
        out: list[_Spec] = []
        for entity in sorted(mined.per_template):
            per = mined.per_template[entity]
            errors = sorted(t for t in per if self._templates[t].level == "error")
            new = [t for t in errors if self._is_new(t, mined)]
            out.append(self._sum_row(entity, "log_errors", errors, per))
            out.append(self._sum_row(entity, "log_new_errors", new, per))
            for t in self._most_moved(per)[: self._cfg.top_templates]:
                key = SeriesKey(
                    entity, "log_template", "other", "logs", self._templates[t].detail, noise="count"
                )
                out.append((key, frozenset({t})))
        return out

    def _is_new(self, template: int, mined: _Mined) -> bool:
        if self._usual:
            return template not in self._usual
        return mined.first_seen[template] > mined.first + self._cfg.window_s

    def _sum_row(self, entity: str, signal: str, members: list[int], per: dict[int, FloatArray]) -> _Spec:
        """A row summing `members`; its detail is the one with the most records."""
        top = max(members, key=lambda t: (per[t].sum(), -t), default=None)
        detail = self._templates[top].detail if top is not None else ""
        return SeriesKey(entity, signal, "errors", "logs", detail, noise="count"), frozenset(members)

    def _most_moved(self, per: dict[int, FloatArray]) -> list[int]:
        """Ordinary templates by how far their share of the service's records strayed from its median,
        in binomial sigmas, most first (the rank then judges when and whether that was unusual)."""
        total = _trailing_sum(sum(per.values(), np.zeros(next(iter(per.values())).size)), self._width)
        enough = total >= MIN_SHARE_LINES
        moved: list[tuple[float, int]] = []
        for t, counts in per.items():
            if self._templates[t].level == "error" or not enough.any():
                continue
            share = _trailing_sum(counts, self._width)[enough] / total[enough]
            usual = float(np.median(share))
            spread = np.sqrt(max(usual * (1 - usual), 0.01) / total[enough])
            moved.append((float(np.max(np.abs(share - usual) / spread)), t))
        return [t for _, t in sorted(moved, key=lambda m: (-m[0], m[1]))]

    def volumes(self, mined: _Mined, grid: FloatArray, covered_from: Mapping[str, float]) -> dict[str, float]:
        """Each service's usual records per window (the median over the points it was read): the
        volume a template's share is expressed at, on the incident's grid and its reference's alike."""
        out = {}
        for entity, per in mined.per_template.items():
            total = _trailing_sum(sum(per.values(), np.zeros(grid.size)), self._width)
            seen = self._read(grid, covered_from.get(entity, mined.first), mined.last) & (total > 0)
            out[entity] = float(np.median(total[seen])) if seen.any() else 0.0
        return out

    def _read(self, grid: FloatArray, start: float, last: float) -> npt.NDArray[np.bool_]:
        """Points whose whole window was read: from the first line to one step past the last."""
        ends = grid + self._step
        return np.asarray((ends - self._width * self._step >= start) & (ends <= last + self._step))

    def values(
        self,
        specs: list[_Spec],
        mined: _Mined,
        grid: FloatArray,
        covered_from: Mapping[str, float],
        volumes: Mapping[str, float],
    ) -> FloatArray:
        out = np.full((len(specs), grid.size), np.nan)
        for row, (key, members) in enumerate(specs):
            per = mined.per_template.get(key.entity, {})
            read = self._read(grid, covered_from.get(key.entity, mined.first), mined.last)
            counts = _trailing_sum(
                sum((per[t] for t in members if t in per), np.zeros(grid.size)), self._width
            )
            if key.signal == "log_template":
                total = _trailing_sum(sum(per.values(), np.zeros(grid.size)), self._width)
                with np.errstate(divide="ignore", invalid="ignore"):
                    counts = np.where(total > 0, counts / total * volumes.get(key.entity, 0.0), np.nan)
            out[row] = np.where(read, counts, np.nan)
        return out


def _trailing_sum(values: FloatArray, width: int) -> FloatArray:
    """Sum over the last `width` points at each point (fewer at the start)."""
    total = np.cumsum(values)
    out = total.copy()
    out[width:] = total[width:] - total[:-width]
    return out
