"""The held-out protocol chooses on the tune half only, and reports the chosen and shipped side by side.

The corpora here are tiny and synthetic, and the detector is a stand-in passed in as a parameter: it
fires at a window's start for the configuration a file "prefers" (written in the file's first value)
and far from any window for every other configuration, so which configuration each half prefers is
known by construction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evals.bench.nab.corpus import CostMatrix, DataFile, load_corpus, load_profiles, load_result_scores
from evals.bench.nab.heldout import GRID, SHIPPED, GridPoint, choose, halves, nab_score, protocol
from evals.bench.nab.split import Half, split_names
from tools.anomaly.detector import DetectorConfig

PROFILES = {
    "standard": CostMatrix(tpWeight=1.0, fnWeight=1.0, fpWeight=0.11),
    "reward_low_FP_rate": CostMatrix(tpWeight=1.0, fnWeight=1.0, fpWeight=0.22),
    "reward_low_FN_rate": CostMatrix(tpWeight=1.0, fnWeight=2.0, fpWeight=0.11),
}
ROWS = 400
FIVE = GridPoint(averaging=5, quiet=10, range_tolerance=0.05)  # differs from SHIPPED in one knob only
NAMES = [f"{folder}/s{k}.csv" for folder in ("cat_a", "cat_b") for k in range(4)]
SPLIT = split_names(NAMES)


def _file(name: str, prefers: int, n_windows: int) -> DataFile:
    values = np.zeros(ROWS)
    values[0] = prefers  # the averaging this file's stand-in detection rewards
    starts = [100 + 100 * k for k in range(n_windows)]
    stamps = np.arange(ROWS).astype("datetime64[m]").astype("datetime64[ns]")
    return DataFile(name=name, timestamps=stamps, values=values, windows=[(s, s + 20) for s in starts])


def _corpus(tune_prefers: int, held_out_prefers: int) -> list[DataFile]:
    """Held-out files carry three windows each, tune files one: on the whole corpus held-out dominates."""
    tune = set(SPLIT[Half.TUNE])
    return [_file(n, tune_prefers, 1) if n in tune else _file(n, held_out_prefers, 3) for n in sorted(NAMES)]


class StandIn:
    """Records every file it is run on; detects where the file's preferred configuration would."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, job: tuple[DetectorConfig, DataFile]) -> np.ndarray:
        cfg, data = job
        self.seen.add(data.name)
        out = np.zeros(ROWS)
        if cfg.likelihood.averaging == int(data.values[0]):
            out[[start for start, _ in data.windows]] = 1.0
        else:
            out[ROWS - 5 :] = 1.0  # several false positives, and every window missed
        return out


def test_the_choice_reads_the_tune_half_only() -> None:
    grid = [SHIPPED, FIVE]
    prefers_five, prefers_ten = _corpus(tune_prefers=5, held_out_prefers=10), _corpus(5, 5)
    detect = StandIn()
    choice = choose(prefers_five, PROFILES, grid, detect, processes=1)
    assert choice.chosen == FIVE
    assert detect.seen == set(SPLIT[Half.TUNE])  # no held-out file ever reached the detector
    # the whole corpus would have chosen the other configuration: the choice is not the corpus's
    whole = {
        p.name: nab_score(prefers_five, [detect((p.config(), f)) for f in prefers_five], PROFILES)
        for p in grid
    }
    assert whole[SHIPPED.name].score["standard"] > whole[FIVE.name].score["standard"]
    # a corpus whose held-out half prefers the other configuration gives the very same choice and scores
    assert choose(prefers_ten, PROFILES, grid, StandIn(), processes=1) == choice


def test_the_report_keeps_the_shipped_configuration_beside_a_different_choice() -> None:
    files = _corpus(tune_prefers=5, held_out_prefers=10)
    result = protocol(files, PROFILES, grid=[SHIPPED, FIVE], detect=StandIn(), processes=1)
    assert (result.chosen, result.shipped) == (FIVE.name, SHIPPED.name)
    chosen, shipped = (
        result.board[f"medic chosen ({FIVE.name})"],
        result.board[f"medic shipped ({SHIPPED.name})"],
    )
    assert chosen["tune"]["standard"] == 100.0 and shipped["held-out"]["standard"] == 100.0
    assert (
        chosen["held-out"]["standard"] < 0 < shipped["held-out"]["standard"]
    )  # the choice did not carry over
    assert result.split == {"tune": SPLIT[Half.TUNE], "held-out": SPLIT[Half.HELD_OUT]}


def test_a_choice_equal_to_the_shipped_configuration_is_one_row_saying_so() -> None:
    files = _corpus(tune_prefers=10, held_out_prefers=5)
    result = protocol(files, PROFILES, grid=[SHIPPED, FIVE], detect=StandIn(), processes=1)
    assert list(result.board) == [f"medic chosen = shipped ({SHIPPED.name})"]


def test_a_tie_on_the_tune_half_keeps_the_shipped_configuration() -> None:
    neither = _corpus(tune_prefers=7, held_out_prefers=5)  # both grid points score the same on tune
    assert choose(neither, PROFILES, [FIVE, SHIPPED], StandIn(), processes=1).chosen == SHIPPED


def test_the_grid_is_small_distinct_and_holds_the_shipped_configuration() -> None:
    assert len(GRID) <= 12 and len({p.name for p in GRID}) == len(GRID)
    assert SHIPPED in GRID
    assert SHIPPED.config() == DetectorConfig()  # the shipped grid point is exactly the shipped default


NAB = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "nab"


def test_numenta_published_results_rescore_as_published_on_all_and_as_pinned_per_half() -> None:
    files = load_corpus(NAB)
    row = halves(
        files, [load_result_scores(NAB / "results", "numenta", f.name) for f in files], load_profiles(NAB)
    )
    assert row["all"] == {"standard": 70.10, "reward_low_FP_rate": 63.12, "reward_low_FN_rate": 74.32}
    # the same detector, thresholds fitted on tune: the held-out half is the harder one for it too
    assert (row["tune"]["standard"], row["held-out"]["standard"]) == (73.68, 65.39)
