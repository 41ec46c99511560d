"""`medic bench rca --data DIR --format sockshop|petshop|nezha`: root-cause ranking on public fault data.

Every method ranks the entities of each fault case (`methods.py`): medic's ranking as the agent's tool
calls it, with the onset given and with the onset found, beside BARO and, on PetShop, the published
anomaly-traversal baseline. AC@1, AC@3 and Avg@5 (service-level AS@k on Nezha) per fault type and
per breakdown; specificity on healthy windows cut from each data set's fault-free data.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from pydantic import BaseModel

from evals.bench.rca.case_model import ALL_SOURCES, RcaCase, Source, parse_sources
from evals.bench.rca.methods import CAN_BE_QUIET, FORMAT_METHODS, METHODS, Answer, choose
from evals.bench.rca.scoring import Accuracy, Specificity, by_scope, position_of, quiet_by_scope, scopes
from evals.bench.rca.speed import time_ranking

FORMATS = tuple(FORMAT_METHODS)
Loader = Callable[[Path], Iterator[RcaCase]]


def loaders(format_name: str) -> tuple[Loader, Loader]:
    """(fault cases, healthy windows) of a format."""
    if format_name == "sockshop":
        from evals.bench.rca.cases_sockshop import sockshop_cases, sockshop_healthy

        return sockshop_cases, sockshop_healthy
    if format_name == "petshop":
        from evals.bench.rca.cases_petshop import petshop_cases, petshop_healthy

        return petshop_cases, petshop_healthy
    if format_name == "nezha":
        from evals.bench.rca.cases_nezha import nezha_cases, nezha_healthy

        return nezha_cases, nezha_healthy
    raise ValueError(f"unknown format {format_name!r}; expected one of {', '.join(FORMATS)}")


class CaseResult(BaseModel):
    case: str
    method: str
    cause: str | None
    fault: str
    groups: dict[str, str]
    position: int | None  # of the cause in what was reported; None: a miss (or a healthy window)
    rank_position: int | None  # of the cause in the full order, reported or not
    reported: bool
    top: list[str]
    onset_offset_s: float | None  # onset used minus the injection
    why: list[str]


class MethodScores(BaseModel):
    accuracy: dict[str, Accuracy]
    specificity: dict[str, Specificity] | None
    seconds: float  # ranking the fault cases
    healthy_seconds: float


class RcaReport(BaseModel):
    format: str
    sources: list[str]  # the sources asked for that the data has (rows of them were ranked)
    load_seconds: float
    methods: dict[str, MethodScores]
    cases: list[CaseResult]
    healthy: list[CaseResult]  # what each method said on each healthy window


def _result(case: RcaCase, method: str, answer: Answer, injected: float) -> CaseResult:
    cause = case.cause
    return CaseResult(
        case=case.name,
        method=method,
        cause=cause,
        fault=case.fault,
        groups=dict(case.groups),
        position=position_of(cause, answer.ranked) if cause else None,
        rank_position=position_of(cause, answer.order) if cause else None,
        reported=bool(answer.ranked),
        top=answer.order[:5],
        onset_offset_s=None if answer.onset is None else round(answer.onset - injected, 1),
        why=answer.why,
    )


def _first(items: Iterator[RcaCase], limit: int | None) -> Iterator[RcaCase]:
    for index, item in enumerate(items):
        if limit is not None and index >= limit:
            return
        yield item


def run_rca(
    data_dir: Path | str,
    format_name: str = "sockshop",
    methods: Sequence[str] | None = None,
    sources: frozenset[Source] = frozenset(ALL_SOURCES),
    limit: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RcaReport:
    """Run each method on every case (and healthy window) under `data_dir`."""
    root = Path(data_dir)
    faults, healthy = loaders(format_name)
    chosen = list(methods) if methods else list(FORMAT_METHODS[format_name])
    seconds = dict.fromkeys(chosen, 0.0)
    healthy_seconds = dict.fromkeys(chosen, 0.0)
    loading = 0.0
    present: set[str] = set()
    results: list[CaseResult] = []
    healthy_results: list[CaseResult] = []
    quiet: dict[str, list[tuple[list[str], bool]]] = {m: [] for m in chosen if m in CAN_BE_QUIET}
    for kind, cases in (("fault", faults(root)), ("healthy", healthy(root))):
        for case in _first(cases, limit):
            started = time.perf_counter()
            window = case.load(sources)
            loading += time.perf_counter() - started
            present |= {key.source for key in window.matrix.keys}
            for method in chosen:
                if kind == "healthy" and method not in quiet:
                    continue
                started = time.perf_counter()
                answer = METHODS[method](window)
                spent = time.perf_counter() - started
                if kind == "fault":
                    seconds[method] += spent
                    results.append(_result(case, method, answer, window.injected))
                else:
                    healthy_seconds[method] += spent
                    healthy_results.append(_result(case, method, answer, window.injected))
                    groups = ["all", *(f"{k}={v}" for k, v in sorted(case.groups.items()))]
                    quiet[method].append((groups, bool(answer.ranked)))
            if progress:
                progress(case.name)
    scores = {
        method: MethodScores(
            accuracy=by_scope((scopes(r.fault, r.groups), r.position) for r in results if r.method == method),
            specificity=quiet_by_scope(quiet[method]) if method in quiet else None,
            seconds=round(seconds[method], 3),
            healthy_seconds=round(healthy_seconds[method], 3),
        )
        for method in chosen
    }
    return RcaReport(
        format=format_name,
        sources=[s for s in ALL_SOURCES if s in present],
        load_seconds=round(loading, 3),
        methods=scores,
        cases=results,
        healthy=healthy_results,
    )


def render_table(report: RcaReport) -> str:
    """One row per method and scope; specificity beside the scopes healthy windows have."""
    head = f"{'method':<13}{'scope':<32}{'n':>4}{'AC@1':>7}{'AC@3':>7}{'Avg@5':>7}{'spec':>7}{'(n)':>5}{'time s':>8}"
    lines = [
        f"{report.format}: sources {','.join(report.sources)}; windows built in {report.load_seconds:.1f} s",
        head,
    ]
    for method, scores in report.methods.items():
        quiet = scores.specificity or {}
        for scope, acc in scores.accuracy.items():
            spec = quiet.get(scope)
            shown = f"{spec.quiet:>7.2f}{spec.n:>5}" if spec else f"{'':>12}"
            spent = f"{scores.seconds:>8.1f}" if scope == "all" else ""
            lines.append(
                f"{method:<13}{scope:<32}{acc.n:>4}{acc.ac_at_1:>7.2f}{acc.ac_at_3:>7.2f}{acc.avg_at_5:>7.3f}{shown}{spent}"
            )
        for scope, spec in quiet.items():
            if scope not in scores.accuracy:
                lines.append(f"{method:<13}{scope:<32}{'':>25}{spec.quiet:>7.2f}{spec.n:>5}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: print the score table (or JSON with `--json`); returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="medic bench rca", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--data", required=True, help="the data set folder, in its published layout")
    parser.add_argument("--format", default="sockshop", help=f"the data set's layout: {' | '.join(FORMATS)}")
    parser.add_argument(
        "--json", action="store_true", help="print the scores and every case's answers as JSON"
    )
    parser.add_argument(
        "--methods",
        default=None,
        help="comma-separated: medic (both onset modes), medic-given, medic-found, baro, traversal",
    )
    parser.add_argument(
        "--sources",
        default=",".join(ALL_SOURCES),
        help="comma-separated: metrics, traces, logs (metrics always)",
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="only the first N fault cases and N healthy windows"
    )
    args = parser.parse_args(argv)
    try:
        if args.format not in FORMATS:
            raise ValueError(f"unknown --format {args.format!r}; expected one of {', '.join(FORMATS)}")
        if args.limit is not None and args.limit < 1:
            raise ValueError("--limit must be at least 1")
        methods, sources = choose(args.format, args.methods), parse_sources(args.sources)
        progress = (lambda name: print(f"  {name}", file=sys.stderr)) if sys.stderr.isatty() else None
        report = run_rca(args.data, args.format, methods, sources, args.limit, progress)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(report.model_dump_json(indent=2))
        return 0
    print(render_table(report))
    if args.limit is None:
        for n_points, label in ((1440, "1-minute points"), (5760, "15-second points")):
            spent = time_ranking(n_series=500, n_points=n_points)
            print(f"ranking speed: 500 series x 1 day at {label} ({n_points} each): {spent * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
