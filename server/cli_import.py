"""`medic import petshop|nezha SRC DEST`: public incident datasets as recordings, one per labelled fault.

Each recording is written to DEST/<id>/ and can be replayed with `medic triage --scenario DEST/<id>` or
scored with `medic eval --scenarios DEST`. The importers live in evals/recordings/importers/; they are
imported when a command runs, so `medic --help` stays cheap.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer


def _fail(message: str, code: int = 1) -> Exception:
    from server.cli import fail  # not at import: server.cli imports this module to register it

    return fail(message, code=code)


if TYPE_CHECKING:
    from evals.recordings.importers.common import Imported

import_app = typer.Typer(
    no_args_is_help=True, help="Turn a public incident dataset into recordings, one per labelled fault."
)

Source = Annotated[Path, typer.Argument(metavar="SRC", help="the dataset folder, in its published layout")]
Dest = Annotated[Path, typer.Argument(metavar="DEST", help="where the recordings go, one folder each")]


def _duration(text: str, option: str) -> timedelta:
    from evals.durations import parse_duration

    try:
        span = parse_duration(text)
    except ValueError as exc:
        raise _fail(f"{option}: {exc}", code=2) from None
    if span <= timedelta(0):
        raise _fail(f"{option}: must be positive, got {text!r}", code=2)
    return span


@import_app.command("petshop")
def import_petshop_command(
    src: Source,
    dest: Dest,
    namespace: Annotated[
        str, typer.Option(help="the namespace the recordings say the services run in")
    ] = "petshop",
    history: Annotated[
        str, typer.Option(help="healthy data (noissue/) placed before each issue window")
    ] = "6h",
) -> None:
    """PetShop (CloudWatch/X-Ray metrics, call graph): the SLO violation of each issue is the alert."""
    from evals.recordings.importers.petshop import PetshopOptions, import_petshop

    options = PetshopOptions(namespace=namespace, history=_duration(history, "--history"))
    _run(lambda: import_petshop(src, dest, options))


@import_app.command("nezha")
def import_nezha_command(
    src: Source,
    dest: Dest,
    namespace: Annotated[
        str, typer.Option(help="the namespace the recordings say the pods run in")
    ] = "train-ticket",
    history: Annotated[str, typer.Option(help="metrics kept before each alert")] = "1h",
    span_history: Annotated[str, typer.Option(help="spans and logs kept before each alert")] = "1h",
    fault_window: Annotated[
        str, typer.Option(help="how long after its injection a fault counts (for the alert and the history)")
    ] = "5m",
) -> None:
    """Nezha Train Ticket (pod metrics, spans, logs): the alert is derived from the entry's latency and
    success rate, or a question is asked where no alerting rule would have fired."""
    from evals.recordings.importers.nezha import NezhaOptions, import_nezha

    options = NezhaOptions(
        namespace=namespace,
        history=_duration(history, "--history"),
        span_history=_duration(span_history, "--span-history"),
        fault_window=_duration(fault_window, "--fault-window"),
    )
    _run(lambda: import_nezha(src, dest, options))


def _run(imports: Callable[[], Iterator[Imported]]) -> None:
    from evals.recordings.manifest import RecordingError

    began, done = time.perf_counter(), []
    try:
        for one in imports():
            size = one.size_bytes()
            done.append((one, size))
            print(f"{one.id}: {one.trigger}, {size / 1e6:.1f} MB in {one.seconds:.2f}s")
    except RecordingError as exc:
        raise _fail(str(exc), code=2) from None
    if not done:
        raise _fail("no labelled faults found", code=2)
    unmapped = sorted({one.unmapped for one, _ in done if one.unmapped})
    print(
        f"{len(done)} recordings in {time.perf_counter() - began:.1f}s; per incident, median "
        f"{statistics.median(o.seconds for o, _ in done):.2f}s and {statistics.median(s for _, s in done) / 1e6:.1f} MB"
    )
    if unmapped:
        print(f"fault types with no medic fault kind (expect.root_cause.kind is null): {', '.join(unmapped)}")
