"""Load the NAB corpus (data files, anomaly windows, scoring profiles) from a NAB checkout's layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict


class CostMatrix(BaseModel):
    """One NAB profile's weights (config/profiles.json)."""

    tpWeight: float  # NAB spells the keys in camelCase
    fnWeight: float
    fpWeight: float


class DataFile(BaseModel):
    """One series: its path relative to data/, timestamps (datetime64), values and window row ranges."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    name: str  # e.g. "realKnownCause/nyc_taxi.csv"
    timestamps: np.ndarray
    values: np.ndarray
    windows: list[tuple[int, int]]  # inclusive row index ranges

    @property
    def epoch_seconds(self) -> np.ndarray:
        return self.timestamps.astype("datetime64[s]").astype(np.int64).astype(np.float64)


PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


def load_profiles(nab_dir: Path) -> dict[str, CostMatrix]:
    raw = json.loads((nab_dir / "config" / "profiles.json").read_text())
    return {name: CostMatrix.model_validate(raw[name]["CostMatrix"]) for name in PROFILES}


def window_rows(timestamps: np.ndarray, limits: list[list[str]], name: str) -> list[tuple[int, int]]:
    """Map NAB window limits (timestamps) to inclusive row ranges; NAB requires both ends to be rows."""
    rows = []
    for start, end in limits:
        bounds = np.array([np.datetime64(pd.Timestamp(start)), np.datetime64(pd.Timestamp(end))])
        idx = np.searchsorted(timestamps, bounds.astype(timestamps.dtype))
        if idx[1] >= len(timestamps) or timestamps[idx[0]] != bounds[0] or timestamps[idx[1]] != bounds[1]:
            raise ValueError(f"{name}: window {start}..{end} does not start and end on rows of the file")
        rows.append((int(idx[0]), int(idx[1])))
    return rows


def load_corpus(nab_dir: Path) -> list[DataFile]:
    """Every data file listed in labels/combined_windows.json, sorted by name."""
    windows = json.loads((nab_dir / "labels" / "combined_windows.json").read_text())
    files = []
    for name in sorted(windows):
        frame = pd.read_csv(nab_dir / "data" / name)
        stamps = pd.to_datetime(frame["timestamp"]).to_numpy().astype("datetime64[ns]")
        files.append(
            DataFile(
                name=name,
                timestamps=stamps,
                values=frame["value"].to_numpy(dtype=np.float64),
                windows=window_rows(stamps, windows[name], name),
            )
        )
    return files


def load_result_scores(results_dir: Path, detector: str, name: str) -> np.ndarray:
    """The anomaly_score column of a detector's published results file (NAB's results layout)."""
    folder, file_name = name.split("/")
    path = results_dir / detector / folder / f"{detector}_{file_name}"
    return pd.read_csv(path)["anomaly_score"].to_numpy(dtype=np.float64)
