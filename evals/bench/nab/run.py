"""`medic bench nab`: score our detector and the peers on the NAB corpus, beside the published board.

One global detector configuration; nothing is tuned per file. Each detector's threshold per profile
is chosen corpus-wide the way NAB chose the published rows' thresholds (`twiddle`, a hill-climber
that can stop short of the best threshold), so the main columns compare like with like. The
exhaustive `sweep` (the best threshold there is, never lower) is shown in separate columns: it is not
comparable with the published rows. Per-file work runs on a process pool.

`--split tune|held-out` scores one half of the fixed split (`evals.bench.nab.split`) instead of the
whole corpus; `--choose` runs the held-out protocol (`evals.bench.nab.heldout`): the configuration
is chosen on the tune half and reported on every half beside the shipped one.
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
from evals.bench.nab.heldout import HALVES, Protocol, protocol
from evals.bench.nab.peers import iforest_scores, stl_residual_scores
from evals.bench.nab.scorer import best_on, file_parts, normalize, score_curve, score_file, twiddle
from evals.bench.nab.split import Half, select
from tools.anomaly.detector import score as medic_score
from tools.anomaly.streaming import StreamingDetector

OURS = "medic"
PEERS = ("iforest", "stl_residual")
RANDOMIZED = {"iforest"}
METHODS = ("twiddle", "sweep")  # NAB's published procedure first: it gives the main numbers
Board = dict[str, dict[str, float]]  # {detector: {profile: normalized score}}


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


def evaluate(
    files: Sequence[DataFile], scores: Sequence[np.ndarray], nab_dir: Path
) -> dict[str, dict[str, float]]:
    """{method: {profile: normalized NAB score}}, thresholds chosen corpus-wide by each of `METHODS`."""
    n_windows = sum(len(f.windows) for f in files)
    result: dict[str, dict[str, float]] = {method: {} for method in METHODS}
    for profile, cost in load_profiles(nab_dir).items():
        parts = [file_parts(f.values.size, f.windows, cost) for f in files]
        null = sum(
            score_file(np.zeros(f.values.size), p, cost, 2.0) for f, p in zip(files, parts, strict=True)
        )
        curve = score_curve(scores, parts, cost)
        for method, best in (("twiddle", twiddle(curve)), ("sweep", best_on(curve))):
            result[method][profile] = round(normalize(best.score, n_windows, null, cost), 2)
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
    half: Half = Half.ALL,
) -> dict[str, Board]:
    """{method: {detector: {profile: normalized score}}} for ours and the peers, for each of `METHODS`
    (median over seeds if the detector is randomized), on one half of the split or on all files."""
    files = select(load_corpus(data_dir), half)
    boards: dict[str, Board] = {method: {} for method in METHODS}
    with Pool(processes) as pool:
        for detector in (OURS, *peers):
            runs = []
            for seed in range(seeds if detector in RANDOMIZED else 1):
                scores = pool.map(detect, [(detector, seed, f) for f in files])
                runs.append(evaluate(files, scores, data_dir))
                if detector == OURS and out_dir is not None:
                    write_results(out_dir, OURS, files, scores)
            for method in METHODS:
                medians = {p: round(statistics.median(r[method][p] for r in runs), 2) for p in PROFILES}
                boards[method][detector] = medians
    return boards


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


def _cells(scores: dict[str, float] | None) -> str:
    return " ".join(f"{scores[p]:9.2f}" if scores else f"{'—':>9s}" for p in PROFILES)


def render(boards: dict[str, Board], scoreboard: Board) -> str:
    """The like-for-like (twiddle) columns beside the published rows; the sweep columns apart."""
    rows: list[tuple[str, dict[str, float], dict[str, float] | None]] = [
        (f"{name} (this run)", s, boards["sweep"].get(name)) for name, s in boards["twiddle"].items()
    ]
    published_rows = sorted(scoreboard.items(), key=lambda r: -r[1]["standard"])
    rows += [(f"{name} (published)", s, None) for name, s in published_rows]
    head = " ".join(f"{p:>9s}" for p in ("standard", "low_FP", "low_FN"))
    lines = [
        f"{'':34s} {'NAB twiddle thresholds (as published)':^29s} | {'sweep thresholds (this run only)':^29s}",
        f"{'detector':34s} {head} | {head}",
    ]
    lines += [f"{name:34s} {_cells(main)} | {_cells(swept)}" for name, main, swept in rows]
    lines.append(
        "twiddle: NAB's hill-climbing threshold search, which produced every published row (compare these);"
        "\nsweep: the best threshold over every distinct score (≥ twiddle; no published row was scored so)."
    )
    return "\n".join(lines)


def render_protocol(result: Protocol, scoreboard: Board) -> str:
    """One table per profile: our rows and numenta's on every half, the published whole-corpus rows."""
    lines = [f"configuration chosen on the tune half: {result.chosen} (shipped: {result.shipped})"]
    lines += [f"  {name:28s} tune standard {scores['standard']:6.2f}" for name, scores in result.grid.items()]
    published_rows = sorted(scoreboard.items(), key=lambda r: -r[1]["standard"])
    width = max(len(label) for label in [*result.board, *(f"{n} (published)" for n in scoreboard)]) + 2
    for profile in PROFILES:
        lines += ["", f"{profile:{width}s}" + "".join(f"{h:>25s}" for h in HALVES)]
        for label, row in result.board.items():
            lines.append(f"{label:{width}s}" + "".join(f"{row[h][profile]:25.2f}" for h in HALVES))
        for name, scores in published_rows:
            cells = "".join(f"{'—':>25s}" for _ in HALVES[:-1]) + f"{scores[profile]:25.2f}"
            lines.append(f"{name + ' (published)':{width}s}{cells}")
    lines.append(
        "\nheld-out: at the thresholds fitted on tune; 'own threshold': NAB's twiddle on the held-out half;"
        "\nall: NAB's twiddle on every file, as every published row (whose thresholds saw every file)."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="medic bench nab", description=__doc__)
    parser.add_argument(
        "--data", type=Path, required=True, help="NAB folder (data/, labels/, config/, results/)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print {detector: {profile: score}} as JSON, with NAB's own (twiddle) thresholds",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="write our raw scores in NAB's results layout (with --choose: nab_choice.json)",
    )
    parser.add_argument("--seeds", type=int, default=3, help="runs of randomized peers (median reported)")
    parser.add_argument("--throughput", action="store_true", help="also measure points/s on one core")
    parser.add_argument(
        "--split",
        choices=[h.value for h in Half],
        default=Half.ALL.value,
        help="score one half of the fixed split by file, or all files (NAB's protocol)",
    )
    parser.add_argument(
        "--choose",
        action="store_true",
        help="choose the configuration on the tune half, report it on every half (ours and numenta only)",
    )
    args = parser.parse_args(argv)
    if args.choose:
        if args.split != Half.ALL.value:
            parser.error("--choose reports every half itself: leave --split out")
        files = load_corpus(args.data)
        result = protocol(files, load_profiles(args.data), results_dir=args.data / "results")
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "nab_choice.json").write_text(result.model_dump_json(indent=2))
        print(result.model_dump_json() if args.json else render_protocol(result, published(args.data)))
    else:
        boards = run_nab(args.data, seeds=args.seeds, out_dir=args.out, half=Half(args.split))
        if args.json:
            print(json.dumps(boards["twiddle"]))  # the agreed shape: every top-level key is a detector
        else:
            print(render(boards, published(args.data)))
            if args.split != Half.ALL.value:  # the published rows cannot be split: say so under the table
                print(
                    f"this run: the {args.split} half (evals/bench/nab/split.py); published rows: every file"
                )
    if args.throughput:
        print(json.dumps(throughput(args.data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
