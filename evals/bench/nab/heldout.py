"""NAB's held-out protocol: choose the detector's configuration on the tune half, report it on the rest.

`choose` scores every configuration of a small grid on the tune half only (`split.Half.TUNE`) and
picks the best NAB standard-profile score there, the threshold chosen by NAB's `twiddle` on that half
too. `protocol` then scores the chosen and the shipped configuration, and NAB's published `numenta`
results where the folder has them, the same way on every half:

- `tune`: the half the choice was made on (the threshold is fitted there as well);
- `held-out`: the other half, at the thresholds fitted on tune: nothing about these files was chosen;
- `held-out, own threshold`: NAB's procedure (twiddle) applied to the held-out half alone;
- `all`: NAB's procedure on the whole corpus, as every published row was scored.

The grid is three knobs of what one alert is made of, 2 × 2 × 3 = 12 configurations:
`likelihood.averaging` (how many raw scores make one piece of evidence: 5 or HTM's 10),
`likelihood.quiet` (how long one episode keeps a second alert quiet: 10 or 60 points) and
`range_tolerance` (Numenta's "spatial anomaly" rule: off, 5 % or 10 % of the range). The alert
threshold itself is not a knob here: NAB fits it per detector. The model's internals (seasonal bins,
windows) describe the data's periods rather than NAB's scoring, so they stay as shipped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from evals.bench.nab.corpus import CostMatrix, DataFile, load_result_scores
from evals.bench.nab.scorer import file_parts, normalize, score_curve, score_file, twiddle
from evals.bench.nab.split import Half, select
from tools.anomaly.detector import DetectorConfig
from tools.anomaly.detector import score as medic_score

CHOOSE_BY = "standard"
Detect = Callable[[tuple[DetectorConfig, DataFile]], np.ndarray]
PerProfile = dict[str, float]


class GridPoint(BaseModel, frozen=True):
    """One configuration of the grid: the shipped `DetectorConfig` with three knobs set."""

    averaging: int
    quiet: int
    range_tolerance: float

    @property
    def name(self) -> str:
        return f"avg{self.averaging}-quiet{self.quiet}-range{self.range_tolerance:g}"

    def config(self) -> DetectorConfig:
        shipped = DetectorConfig()
        likelihood = dataclasses.replace(shipped.likelihood, averaging=self.averaging, quiet=self.quiet)
        return dataclasses.replace(shipped, range_tolerance=self.range_tolerance, likelihood=likelihood)


GRID = tuple(
    GridPoint(averaging=a, quiet=q, range_tolerance=r)
    for a in (5, 10)
    for q in (10, 60)
    for r in (0.0, 0.05, 0.1)
)
_SHIPPED = DetectorConfig()
SHIPPED = GridPoint(
    averaging=_SHIPPED.likelihood.averaging,
    quiet=_SHIPPED.likelihood.quiet,
    range_tolerance=_SHIPPED.range_tolerance,
)


def medic_detect(job: tuple[DetectorConfig, DataFile]) -> np.ndarray:
    """Our detector's scores on one file (top-level, so a process pool can run it)."""
    cfg, data = job
    return medic_score(data.values, data.epoch_seconds, cfg)


def run_detector(
    detect: Detect, cfg: DetectorConfig, files: Sequence[DataFile], processes: int
) -> list[np.ndarray]:
    jobs = [(cfg, f) for f in files]
    if processes <= 1:
        return [detect(job) for job in jobs]
    with Pool(processes) as pool:
        return pool.map(detect, jobs)


class Scored(BaseModel):
    """A normalized NAB score per profile, and the threshold it was reached at."""

    score: PerProfile
    threshold: PerProfile


def nab_score(
    files: Sequence[DataFile],
    scores: Sequence[np.ndarray],
    profiles: dict[str, CostMatrix],
    thresholds: PerProfile | None = None,
) -> Scored:
    """Normalized NAB score of these files: at the given thresholds, or at twiddle's on these files."""
    n_windows = sum(len(f.windows) for f in files)
    out = Scored(score={}, threshold={})
    for profile, cost in profiles.items():
        parts = [file_parts(f.values.size, f.windows, cost) for f in files]
        null = sum(
            score_file(np.zeros(f.values.size), p, cost, 2.0) for f, p in zip(files, parts, strict=True)
        )
        if thresholds is None:
            best = twiddle(score_curve(scores, parts, cost))
            threshold, raw = best.threshold, best.score
        else:
            threshold = thresholds[profile]
            raw = sum(score_file(s, p, cost, threshold) for s, p in zip(scores, parts, strict=True))
        out.score[profile] = round(normalize(raw, n_windows, null, cost), 2)
        out.threshold[profile] = threshold
    return out


class Choice(BaseModel):
    """The grid's scores on the tune half and the configuration they pick."""

    tune_scores: dict[str, PerProfile]  # {grid point name: {profile: score}}
    chosen: GridPoint


TuneRuns = dict[str, list[np.ndarray]]  # {grid point name: its scores on each tune file}


def choose_with_runs(
    files: Sequence[DataFile],
    profiles: dict[str, CostMatrix],
    grid: Sequence[GridPoint] = GRID,
    detect: Detect = medic_detect,
    processes: int = 2,
) -> tuple[Choice, TuneRuns]:
    """`choose`, and the detector's tune-half scores per grid point (so a report need not rerun them)."""
    tune = select(files, Half.TUNE)  # the held-out files are dropped here, before any detector runs
    runs = {p.name: run_detector(detect, p.config(), tune, processes) for p in grid}
    results = {p.name: nab_score(tune, runs[p.name], profiles) for p in grid}
    # a tie keeps the shipped configuration (no change without evidence), else the first in grid order
    best = max(grid, key=lambda p: (results[p.name].score[CHOOSE_BY], p == SHIPPED))
    return Choice(tune_scores={name: r.score for name, r in results.items()}, chosen=best), runs


def choose(
    files: Sequence[DataFile],
    profiles: dict[str, CostMatrix],
    grid: Sequence[GridPoint] = GRID,
    detect: Detect = medic_detect,
    processes: int = 2,
) -> Choice:
    """The grid point with the best standard score on the tune half of `files` (shipped wins a tie);
    the threshold is twiddle's on that half. Only the tune half reaches the detector and the scorer."""
    return choose_with_runs(files, profiles, grid, detect, processes)[0]


HALVES = ("tune", "held-out", "held-out, own threshold", "all")
Row = dict[str, PerProfile]  # {half: {profile: score}}


def halves(files: Sequence[DataFile], scores: Sequence[np.ndarray], profiles: dict[str, CostMatrix]) -> Row:
    """One detector's scores (one array per file of `files`) on every half, as the module docstring says."""
    by_name = dict(zip((f.name for f in files), scores, strict=True))

    def part(half: Half) -> tuple[list[DataFile], list[np.ndarray]]:
        chosen = select(files, half)
        return chosen, [by_name[f.name] for f in chosen]

    tune = nab_score(*part(Half.TUNE), profiles)
    return {
        "tune": tune.score,
        "held-out": nab_score(*part(Half.HELD_OUT), profiles, thresholds=tune.threshold).score,
        "held-out, own threshold": nab_score(*part(Half.HELD_OUT), profiles).score,
        "all": nab_score(*part(Half.ALL), profiles).score,
    }


class Protocol(BaseModel):
    """Everything `medic bench nab --choose` reports."""

    split: dict[str, list[str]]
    grid: dict[str, PerProfile]  # tune-half scores of every grid point
    shipped: str
    chosen: str
    board: dict[str, Row]  # {row label: {half: {profile: score}}}


def protocol(
    files: Sequence[DataFile],
    profiles: dict[str, CostMatrix],
    results_dir: Path | None = None,
    grid: Sequence[GridPoint] = GRID,
    detect: Detect = medic_detect,
    processes: int = 2,
) -> Protocol:
    """Choose on tune (`choose`), then score the chosen and the shipped configuration on every half."""
    choice, tune_runs = choose_with_runs(files, profiles, grid, detect, processes)
    tune, held_out = select(files, Half.TUNE), select(files, Half.HELD_OUT)
    rows = [("medic chosen", choice.chosen)] + (
        [("medic shipped", SHIPPED)] if choice.chosen != SHIPPED else []
    )
    board: dict[str, Row] = {}
    for label, point in rows:
        tune_scores = tune_runs.get(point.name) or run_detector(detect, point.config(), tune, processes)
        by_name = dict(zip((f.name for f in tune), tune_scores, strict=True))
        held_scores = run_detector(detect, point.config(), held_out, processes)
        by_name |= zip((f.name for f in held_out), held_scores, strict=True)
        shipped_too = " = shipped" if label == "medic chosen" and point == SHIPPED else ""
        board[f"{label}{shipped_too} ({point.name})"] = halves(
            files, [by_name[f.name] for f in files], profiles
        )
    if results_dir is not None and (results_dir / "numenta").is_dir():
        published = [load_result_scores(results_dir, "numenta", f.name) for f in files]
        board["numenta (published results, rescored)"] = halves(files, published, profiles)
    split = {str(h): [f.name for f in select(files, h)] for h in (Half.TUNE, Half.HELD_OUT)}
    return Protocol(
        split=split, grid=choice.tune_scores, shipped=SHIPPED.name, chosen=choice.chosen.name, board=board
    )
