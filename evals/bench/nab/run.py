"""`medic bench nab`: score our detector and the peers on the NAB corpus, beside the published board.

One global detector configuration; each detector's threshold per profile comes from NAB's
corpus-wide sweep, nothing is tuned per file. Per-file work runs on a process pool.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd

from evals.bench.nab.corpus import PROFILES, DataFile, load_corpus, load_profiles
from evals.bench.nab.peers import iforest_scores, stl_residual_scores
from evals.bench.nab.scorer import file_parts, normalize, score_file, sweep
from tools.anomaly.detector import score as medic_score
from tools.anomaly.streaming import StreamingDetector

OURS = "medic"
PEERS = ("iforest", "stl_residual")
RANDOMIZED = {"iforest"}


def detect(job: tuple[str, int, DataFile]) -> np.ndarray:
    """Scores of one detector on one file (a top-level function, so a process pool can run it)."""
    detector, seed, data = job
    if detector == OURS:
        return medic_score(data.values, data.epoch_seconds)
    if detector == "iforest":
        return iforest_scores(data.values, seed=seed)
    if detector == "stl_residual":
        return stl_residual_scores(data.values, data.epoch_seconds)
    raise ValueError(f"unknown detector {detector!r}")


def evaluate(files: Sequence[DataFile], scores: Sequence[np.ndarray], nab_dir: Path) -> dict[str, float]:
    """Normalized NAB score per profile, thresholds from the corpus-wide sweep."""
    n_windows = sum(len(f.windows) for f in files)
    result = {}
    for profile, cost in load_profiles(nab_dir).items():
        parts = [file_parts(f.values.size, f.windows, cost) for f in files]
        null = sum(
            score_file(np.zeros(f.values.size), p, cost, 2.0) for f, p in zip(files, parts, strict=True)
        )
        best = sweep(scores, parts, cost)
        result[profile] = round(normalize(best.score, n_windows, null, cost), 2)
    return result


def write_results(
    out_dir: Path, detector: str, files: Sequence[DataFile], scores: Sequence[np.ndarray]
) -> None:
    """NAB's results layout: DIR/<detector>/<category>/<detector>_<file>.csv."""
    for data, values in zip(files, scores, strict=True):
        category, name = data.name.split("/")
        label = np.zeros(data.values.size, dtype=int)
        for start, end in data.windows:
            label[start : end + 1] = 1
        path = out_dir / detector / category / f"{detector}_{name}"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = pd.DataFrame(
            {
                "timestamp": pd.to_datetime(data.timestamps).strftime("%Y-%m-%d %H:%M:%S"),
                "value": data.values,
                "anomaly_score": values,
                "label": label,
            }
        )
        frame.to_csv(path, index=False)


def run_nab(
    data_dir: Path,
    peers: Sequence[str] = PEERS,
    seeds: int = 3,
    out_dir: Path | None = None,
    processes: int = 2,
) -> dict[str, dict[str, float]]:
    """{detector: {profile: normalized score}} for ours and the peers (median over seeds if random)."""
    files = load_corpus(data_dir)
    board: dict[str, dict[str, float]] = {}
    with Pool(processes) as pool:
        for detector in (OURS, *peers):
            runs = []
            for seed in range(seeds if detector in RANDOMIZED else 1):
                scores = pool.map(detect, [(detector, seed, f) for f in files])
                runs.append(evaluate(files, scores, data_dir))
                if detector == OURS and out_dir is not None:
                    write_results(out_dir, OURS, files, scores)
            board[detector] = {p: round(statistics.median(r[p] for r in runs), 2) for p in PROFILES}
    return board


def throughput(data_dir: Path, max_stream_points: int = 30_000) -> dict[str, float]:
    """Points per second of our detector on one core: batch over the corpus, streaming on a prefix."""
    files = load_corpus(data_dir)
    start = time.perf_counter()
    for f in files:
        medic_score(f.values, f.epoch_seconds)
    total = sum(f.values.size for f in files)
    batch = total / (time.perf_counter() - start)
    streamed, start = 0, time.perf_counter()
    for f in files:
        det = StreamingDetector()
        for t, x in zip(f.epoch_seconds.tolist(), f.values.tolist(), strict=True):
            det.update(t, x)
        streamed += f.values.size
        if streamed >= max_stream_points:
            break
    return {
        "batch_points_per_s": round(batch),
        "streaming_points_per_s": round(streamed / (time.perf_counter() - start)),
    }


def published(data_dir: Path) -> dict[str, dict[str, float]]:
    raw = json.loads((data_dir / "results" / "final_results.json").read_text())
    return {name: {p: round(v[p], 2) for p in PROFILES} for name, v in raw.items()}


def render(board: dict[str, dict[str, float]], scoreboard: dict[str, dict[str, float]]) -> str:
    rows = [(f"{name} (this run)", s) for name, s in board.items()]
    rows += sorted(((f"{n} (published)", s) for n, s in scoreboard.items()), key=lambda r: -r[1]["standard"])
    lines = [f"{'detector':34s} {'standard':>9s} {'low_FP':>9s} {'low_FN':>9s}"]
    for name, s in rows:
        lines.append(
            f"{name:34s} {s['standard']:9.2f} {s['reward_low_FP_rate']:9.2f} {s['reward_low_FN_rate']:9.2f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="medic bench nab", description=__doc__)
    parser.add_argument(
        "--data", type=Path, required=True, help="NAB folder (data/, labels/, config/, results/)"
    )
    parser.add_argument("--json", action="store_true", help="print {detector: {profile: score}} as JSON")
    parser.add_argument("--out", type=Path, help="write our raw scores in NAB's results layout")
    parser.add_argument("--seeds", type=int, default=3, help="runs of randomized peers (median reported)")
    parser.add_argument("--throughput", action="store_true", help="also measure points/s on one core")
    args = parser.parse_args(argv)
    board = run_nab(args.data, seeds=args.seeds, out_dir=args.out)
    if args.json:
        print(json.dumps(board))
    else:
        print(render(board, published(args.data)))
    if args.throughput:
        print(json.dumps(throughput(args.data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
