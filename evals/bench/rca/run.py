"""`medic bench rca --data DIR [--json]`: medic's ranking and BARO on the 50 Sock Shop fault cases.

Every method ranks the services of a case given the fault time; AC@k is the share of cases whose
faulty service is in the top k, Avg@5 the mean of AC@1..AC@5, reported per fault type and overall.
medic runs with the one configuration the shipped tool uses (`DEFAULT_RANK_CONFIG`) and the shipped
Sock Shop call graph.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

from evals.bench.rca.baro_peer import baro_rank_services
from evals.bench.rca.cases import FAULT_TYPES, RcaCase, load_cases
from evals.bench.rca.speed import time_ranking
from evals.topology import load_shipped
from tools.anomaly.rank import DEFAULT_RANK_CONFIG, RankConfig, SignalMatrix, rank_root_causes

ServiceRanker = Callable[[RcaCase], list[str]]
DEFAULT_METHODS: tuple[str, ...] = ("medic", "baro")


def sock_shop_calls() -> dict[str, list[str]]:
    """Caller -> callees of the shipped Sock Shop topology (the same services as the data set)."""
    return {name: list(spec.calls) for name, spec in load_shipped("sock-shop").services.items()}


def medic_rank_services(
    case: RcaCase, calls: Mapping[str, Sequence[str]] | None = None, config: RankConfig = DEFAULT_RANK_CONFIG
) -> list[str]:
    """Services of `case`, most likely root cause first, by `tools.anomaly.rank`."""
    ranking = rank_root_causes(case.signal_matrix(), onset=case.fault_time, calls=calls, config=config)
    return ranking.entities


def healthy_flagged_share(
    cases: Sequence[RcaCase],
    calls: Mapping[str, Sequence[str]] | None,
    config: RankConfig = DEFAULT_RANK_CONFIG,
) -> float:
    """Share of healthy windows the ranking calls anomalous (its false-alarm rate, no labels needed).

    Each case's normal segment is split in half: the first half is the baseline, the second a
    window in which nothing was injected.
    """
    flagged = 0
    for case in cases:
        healthy = case.times < case.fault_time
        times, matrix = case.times[healthy], case.signal_matrix()
        window = SignalMatrix(times=times, keys=matrix.keys, values=matrix.values[:, healthy])
        ranking = rank_root_causes(window, onset=float(times[times.size // 2]), calls=calls, config=config)
        flagged += ranking.anomalous
    return flagged / len(cases) if cases else 0.0


def _methods() -> dict[str, ServiceRanker]:
    calls = sock_shop_calls()
    return {
        "medic": lambda case: medic_rank_services(case, calls),
        "medic-no-graph": lambda case: medic_rank_services(case, None),
        "baro": baro_rank_services,
    }


class AccuracyScores(BaseModel):
    n: int
    ac_at_1: float
    ac_at_3: float
    avg_at_5: float


class MethodScores(AccuracyScores):
    per_fault: dict[str, AccuracyScores]
    seconds: float


def accuracy(positions: Sequence[int]) -> AccuracyScores:
    """AC@1, AC@3 and Avg@5 from the 1-based position of the true service in each case."""
    n = len(positions)

    def ac(k: int) -> float:
        return sum(p <= k for p in positions) / n if n else 0.0

    return AccuracyScores(n=n, ac_at_1=ac(1), ac_at_3=ac(3), avg_at_5=sum(ac(k) for k in range(1, 6)) / 5)


def position_of(service: str, ranked: list[str]) -> int:
    """1-based position of `service` in `ranked`; one past the end when it is missing."""
    return ranked.index(service) + 1 if service in ranked else len(ranked) + 1


def score_method(cases: Sequence[RcaCase], ranker: ServiceRanker) -> tuple[MethodScores, dict[str, int]]:
    """Scores of one method, and the position it gave the true service in each case."""
    started = time.perf_counter()
    positions = {case.name: position_of(case.service, ranker(case)) for case in cases}
    seconds = time.perf_counter() - started
    overall = accuracy(list(positions.values()))
    per_fault = {
        fault: accuracy([positions[c.name] for c in cases if c.fault == fault])
        for fault in FAULT_TYPES
        if any(c.fault == fault for c in cases)
    }
    return MethodScores(**overall.model_dump(), per_fault=per_fault, seconds=seconds), positions


def run_rca(data_dir: Path | str, methods: Sequence[str] = DEFAULT_METHODS) -> dict[str, dict[str, object]]:
    """Run each method on every case under `data_dir`; `{method: {ac_at_1, ac_at_3, avg_at_5, per_fault}}`."""
    available = _methods()
    unknown = [m for m in methods if m not in available]
    if unknown:
        raise ValueError(f"unknown method {unknown[0]!r}; available: {', '.join(available)}")
    cases = load_cases(data_dir)
    report: dict[str, dict[str, object]] = {}
    for method in methods:
        scores, _ = score_method(cases, available[method])
        report[method] = {
            "ac_at_1": scores.ac_at_1,
            "ac_at_3": scores.ac_at_3,
            "avg_at_5": scores.avg_at_5,
            "per_fault": {
                fault: {"ac_at_1": s.ac_at_1, "ac_at_3": s.ac_at_3, "avg_at_5": s.avg_at_5, "n": s.n}
                for fault, s in scores.per_fault.items()
            },
            "n": scores.n,
            "seconds": round(scores.seconds, 3),
        }
        if method.startswith("medic"):
            calls = sock_shop_calls() if method == "medic" else None
            report[method]["healthy_flagged"] = healthy_flagged_share(cases, calls)
    return report


def render_table(report: Mapping[str, Mapping[str, object]]) -> str:
    """One row per method and scope (all, cpu, mem)."""
    lines = [f"{'method':<16}{'scope':<7}{'n':>4}{'AC@1':>8}{'AC@3':>8}{'Avg@5':>8}{'time s':>9}"]
    for method, scores in report.items():
        per_fault = scores["per_fault"]
        assert isinstance(per_fault, dict)
        scopes: list[tuple[str, Mapping[str, object]]] = [("all", scores), *per_fault.items()]
        for scope, s in scopes:
            seconds = f"{scores['seconds']:>9.2f}" if scope == "all" else ""
            lines.append(
                f"{method:<16}{scope:<7}{s['n']:>4}{s['ac_at_1']:>8.3f}{s['ac_at_3']:>8.3f}{s['avg_at_5']:>8.3f}{seconds}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: print the score table (or JSON with `--json`); returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="medic bench rca", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--data", required=True, help="the sockshop-rcd folder (<service>-<cpu|mem>/<run>/...)"
    )
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument(
        "--methods", default=",".join(DEFAULT_METHODS), help="comma-separated: medic, medic-no-graph, baro"
    )
    args = parser.parse_args(argv)
    try:
        report = run_rca(args.data, [m.strip() for m in args.methods.split(",") if m.strip()])
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(render_table(report))
    for method, scores in report.items():
        if "healthy_flagged" in scores:
            print(
                f"{method}: healthy windows called anomalous (false alarms): {scores['healthy_flagged']:.0%}"
            )
    for n_points, label in ((1440, "1-minute points"), (5760, "15-second points")):
        seconds = time_ranking(n_series=500, n_points=n_points)
        print(f"ranking speed: 500 series x 1 day at {label} ({n_points} each): {seconds * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
