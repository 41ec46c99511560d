"""Running eval cases in parallel processes, one sandbox each, results in the input order.

`jobs` long-lived worker processes (spawned: nothing of the parent's threads or open connections is
inherited) take one case at a time over a pipe. A worker that dies mid-case (a crash, a kill) fails
that case only: its sandbox is brought down and a fresh worker takes the next case. On Ctrl-C or any
error in the parent, the workers are stopped and every sandbox the suite named is brought down (by the
pids each one's state.json records, `evals.sandbox.sandbox.down`), whatever state each case was in.

With `jobs == 1` the cases run in this process, one after the other (same names, same cleanup).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from agent.assemble import AgentConfig
from evals.case_run import CaseOutcome, run_case, sandbox_name
from evals.enforce import ApprovalPath
from evals.metrics.judge_config import JudgeConfig
from evals.replayable import Replayable, load_replayable
from evals.sandbox.sandbox import SandboxConfig, down
from evals.scoring import failed

STOP_GRACE_S = 20.0  # for a worker to finish bringing its sandbox down after being asked to stop


@dataclass(frozen=True)
class SuiteJob:
    """What every case of a suite run shares (sent to each worker once)."""

    base: AgentConfig
    sandbox: SandboxConfig
    out_dir: Path
    owner: int  # the parent's pid: part of every sandbox name, so that names never collide
    approval: ApprovalPath | None = None
    judge: JudgeConfig | None = None


def run_cases(
    paths: list[Path],
    cases: list[Replayable],
    job: SuiteJob,
    *,
    jobs: int,
    on_case: Callable[[CaseOutcome], None] = lambda outcome: None,
) -> list[CaseOutcome]:
    """Every case (loaded from `paths[i]`, already validated as `cases[i]`) in at most `jobs` processes."""
    names = [sandbox_name(case, job.owner) for case in cases]
    try:
        if jobs <= 1:
            results = []
            for case, name in zip(cases, names, strict=True):
                outcome = _one(case, job, name)
                on_case(outcome)
                results.append(outcome)
            return results
        return _in_workers(paths, cases, names, job, jobs, on_case)
    finally:
        for name in names:  # a no-op for every case that ended normally
            down(name, job.sandbox)


def _one(case: Replayable, job: SuiteJob, name: str) -> CaseOutcome:
    return run_case(
        case,
        base=job.base,
        sandbox=job.sandbox,
        out_dir=job.out_dir,
        name=name,
        approval=job.approval,
        judge=job.judge,
    )


def _in_workers(
    paths: list[Path],
    cases: list[Replayable],
    names: list[str],
    job: SuiteJob,
    jobs: int,
    on_case: Callable[[CaseOutcome], None],
) -> list[CaseOutcome]:
    context = multiprocessing.get_context("spawn")
    results: dict[int, CaseOutcome] = {}
    waiting = list(range(len(cases)))
    busy: dict[BaseProcess, tuple[Connection, int | None]] = {}

    def start_worker() -> None:
        parent_end, child_end = context.Pipe()
        process = context.Process(
            target=_worker, args=(child_end, job), name="medic-eval-worker", daemon=True
        )
        process.start()
        child_end.close()
        busy[process] = (parent_end, None)

    def hand_out(process: BaseProcess) -> None:
        connection = busy[process][0]
        if waiting:
            index = waiting.pop(0)
            connection.send((str(paths[index]), names[index]))
            busy[process] = (connection, index)
        else:
            connection.send(None)  # no more work: the worker exits
            busy[process] = (connection, None)

    try:
        for _ in range(min(jobs, len(cases))):
            start_worker()
        for process in list(busy):
            hand_out(process)
        while len(results) < len(cases):
            ready = wait([c for c, _ in busy.values()] + [p.sentinel for p in busy])
            for process, (connection, index) in list(busy.items()):
                if connection in ready and index is not None:
                    try:
                        outcome: CaseOutcome = connection.recv()
                    except (EOFError, OSError):  # it died: mid-case, or while answering
                        process.join(STOP_GRACE_S)
                    else:
                        results[index] = outcome
                        on_case(outcome)
                        hand_out(process)
                        continue
                elif process.sentinel not in ready:
                    continue
                if process.is_alive():
                    continue  # done with its work and about to exit
                connection.close()
                del busy[process]
                if index is not None and index not in results:  # it died mid-case
                    down(names[index], job.sandbox)
                    why = f"the worker process died (exit code {process.exitcode}) running this case"
                    outcome = _failed_case(cases[index], why, job.out_dir)
                    results[index] = outcome
                    on_case(outcome)
                if waiting:
                    start_worker()
                    hand_out(list(busy)[-1])
        return [results[i] for i in range(len(cases))]
    finally:
        _stop(busy)


def _failed_case(case: Replayable, why: str, out_dir: Path) -> CaseOutcome:
    return CaseOutcome(
        id=case.id,
        dry_run=failed(case, why),
        enforce=failed(case, why, mode="enforce"),
        run_dir=out_dir / case.id,
    )


def _stop(busy: dict[BaseProcess, tuple[Connection, int | None]]) -> None:
    """Ask every worker to stop (SIGTERM: its sandbox start undoes itself, a running case's `finally`
    brings its sandbox down), then kill what is left; the caller downs every sandbox by name after."""
    for process, (connection, _) in busy.items():
        if process.is_alive():
            process.terminate()
        connection.close()
    for process in busy:
        process.join(STOP_GRACE_S)
        if process.is_alive():
            process.kill()
            process.join(5)


def _worker(connection: Connection, job: SuiteJob) -> None:
    """A worker's loop: take (case file, sandbox name), run the case, send its outcome back."""
    import signal

    # SIGTERM from the parent unwinds the case (its `finally` brings the sandbox down) instead of
    # dying on the spot; Ctrl-C reaches the parent too, which stops the workers this way.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            task = connection.recv()
        except EOFError:
            return
        if task is None:
            return
        path, name = task
        case = load_replayable(path)  # it loaded in the parent: the same file loads here
        try:
            outcome = _one(case, job, name)
        except Exception as exc:  # run_case fails each pass on its own; this is for what lies outside
            outcome = _failed_case(case, f"{type(exc).__name__}: {exc}", job.out_dir)
        try:
            connection.send(outcome)
        except OSError:  # the parent is gone (stopping): nothing more to do
            return


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
