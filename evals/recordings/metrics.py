"""A recording's metrics/*.om (OpenMetrics text, any metric names), read for replay in one pass.

The pass checks the text, every problem a `RecordingError` naming the file and line (promtool's own
errors name neither), and prepares the backfill: samples later than as_of are dropped (nothing after
the investigated instant may be visible), and the rest are regrouped into 2h-aligned windows, each
series in time order and each metric's lines together. That is what `promtool tsdb
create-blocks-from openmetrics` needs: it silently drops an out-of-order sample, and re-parses a file
once per 2h block (see evals/sandbox/openmetrics.py).

What is accepted is a subset of what promtool parses, so a file we accept never fails the backfill:
- lines are samples, `# TYPE`, `# HELP`, `# UNIT`, and a last `# EOF`; nothing else;
- a sample is `name{labels} value timestamp`, optionally with an exemplar (dropped: the TSDB keeps
  none); the timestamp, in seconds, is required: a recorded sample happened at some instant.
Types are only checked to be OpenMetrics types: the TSDB keeps none, so they are not written again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from evals.recordings.manifest import RecordingError
from evals.sandbox.openmetrics import WINDOW_MS, WindowFile

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
_LABEL = rf"{_LABEL_NAME}={_LABEL_VALUE}"
_PREFIX = re.compile(rf"({_NAME})(?:\{{((?:{_LABEL}(?:,{_LABEL})*)?)\}})?")
_ONE_LABEL = re.compile(rf"({_LABEL_NAME})=({_LABEL_VALUE})")
_LINE = re.compile(rf"({_NAME}(?:\{{(?:{_LABEL}(?:,{_LABEL})*)?\}})?) (\S+)(?: (\S+))?(?: # .*)?")
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_VALUE = re.compile(rf"{_NUMBER}|[+-]?Inf|NaN")
_TIMESTAMP = re.compile(_NUMBER)
_DESCRIPTOR = re.compile(rf"# (TYPE|HELP|UNIT) ({_NAME})(?: (.*))?")
_YEAR_3000_MS = 32_503_680_000_000
_TYPES = frozenset(
    {"counter", "gauge", "histogram", "gaugehistogram", "stateset", "info", "summary", "unknown"}
)


@dataclass
class _Run:
    """The samples of one series in one window, as lines ready to be written."""

    name: str
    times: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    ordered: bool = True

    def text(self) -> str:
        if self.ordered:
            return "".join(self.lines)
        order = sorted(range(len(self.times)), key=self.times.__getitem__)  # stable: ties keep file order
        return "".join(self.lines[i] for i in order)


@dataclass
class RecordedMetrics:
    """The kept samples by 2h window (start ms) and series, and what the readiness probe needs."""

    windows: dict[int, dict[str, _Run]] = field(default_factory=dict)
    samples: int = 0
    dropped: int = 0  # samples later than as_of
    latest_ms: int | None = None  # the newest kept sample, and its metric: Prometheus has data there
    latest_name: str = ""


def read_metrics(files: Sequence[Path], as_of: datetime) -> RecordedMetrics:
    """Check every file and keep the samples at or before `as_of`; raises `RecordingError`."""
    metrics = RecordedMetrics()
    limit_ms = int(as_of.timestamp() * 1000)
    prefixes: dict[str, tuple[str, str, bool]] = {}  # as written -> (canonical, metric name, rewritten)
    for path in files:
        _read_file(path, limit_ms, metrics, prefixes)
    for runs in metrics.windows.values():
        for run in runs.values():
            metrics.samples += len(run.times)
            newest = run.times[-1] if run.ordered else max(run.times)
            if metrics.latest_ms is None or newest > metrics.latest_ms:
                metrics.latest_ms, metrics.latest_name = newest, run.name
    return metrics


def _error(path: Path, number: int, problem: str) -> RecordingError:
    return RecordingError(f"{path}:{number}: {problem} (see the README's Recordings)")


def _read_file(
    path: Path, limit_ms: int, into: RecordedMetrics, prefixes: dict[str, tuple[str, str, bool]]
) -> None:
    """The per-sample work is inlined here, and what depends only on the series and window is looked up
    once per run of lines of one series: a recording may hold millions of samples."""
    number, eof = 0, False
    windows = into.windows
    last: tuple[str, int] = ("", -1)  # (prefix, window) of the previous sample
    canonical, rewritten, times, lines, run = "", False, [0], [""], _Run("")
    try:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if eof or line[0] == "#" or line == "\n":
                    eof = _not_a_sample(path, number, line, eof)
                    continue
                body = line[:-1] if line[-1] == "\n" else line
                exemplar = " # " in body
                parts = body.rsplit(" ", 2)
                if exemplar or len(parts) != 3:
                    parts = _split_slowly(path, number, body)
                prefix, value, stamp = parts
                if not (value.isascii() and value.isdigit()) and _VALUE.fullmatch(value) is None:
                    raise _error(
                        path, number, f"value {value!r} is not a number (a decimal, +Inf, -Inf or NaN)"
                    )
                ms = int(stamp) * 1000 if stamp.isascii() and stamp.isdigit() else _ms(path, number, stamp)
                if ms > limit_ms:
                    if ms > _YEAR_3000_MS:  # else every sample would be silently hidden as "after as_of"
                        raise _error(
                            path, number, f"timestamp {stamp} is in milliseconds; OpenMetrics has seconds"
                        )
                    into.dropped += 1
                    continue
                start = ms - ms % WINDOW_MS
                if (prefix, start) != last:
                    known = prefixes.get(prefix)
                    if known is None:
                        known = prefixes[prefix] = _canonical(path, number, prefix, body)
                    canonical, name, rewritten = known
                    runs = windows.get(start)
                    if runs is None:
                        runs = windows[start] = {}
                    run = runs.get(canonical) or runs.setdefault(canonical, _Run(name))
                    times, lines, last = run.times, run.lines, (prefix, start)
                if times and ms < times[-1]:
                    run.ordered = False
                times.append(ms)
                lines.append(
                    f"{canonical} {value} {stamp}\n" if rewritten or exemplar or body is line else line
                )
    except UnicodeDecodeError:
        raise _error(path, number + 1, "not UTF-8 text") from None
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if not eof:
        where = f"{path}:{number}" if number else f"{path}"
        raise RecordingError(
            f"{where}: no '# EOF' line at the end (OpenMetrics text ends with one; was the file cut short?)"
        )


def _not_a_sample(path: Path, number: int, line: str, eof: bool) -> bool:
    """Check a line that is not a sample; True once `# EOF` is seen."""
    if eof:
        raise _error(path, number, "a line after '# EOF' (it must be the last line)")
    body = line.rstrip("\n")
    if not body:
        raise _error(path, number, "a blank line (OpenMetrics text has none)")
    if body == "# EOF":
        return True
    match = _DESCRIPTOR.fullmatch(body)
    if match is None:
        raise _error(path, number, f"{body[:80]!r} is not '# TYPE', '# HELP', '# UNIT' or '# EOF'")
    if match[1] == "TYPE" and match[3] not in _TYPES:
        raise _error(
            path, number, f"# TYPE {match[2]}: unknown type {match[3]!r} ({', '.join(sorted(_TYPES))})"
        )
    return False


def _ms(path: Path, number: int, stamp: str) -> int:
    """Milliseconds of a timestamp that is not a plain integer of seconds."""
    if _TIMESTAMP.fullmatch(stamp):
        return round(float(stamp) * 1000)
    raise _error(path, number, f"timestamp {stamp!r} is not a number of seconds since the epoch")


def _split_slowly(path: Path, number: int, body: str) -> list[str]:
    """(prefix, value, timestamp) of a line the quick split cannot take (an exemplar, a label value
    with spaces and no timestamp...), or the error that says what is wrong with it."""
    match = _LINE.fullmatch(body)
    if match is None:
        raise _error(path, number, f"not an OpenMetrics sample line: {body[:80]!r}")
    if match[3] is None:
        raise _error(
            path,
            number,
            "the sample has no timestamp: a recording's samples need one (seconds since the epoch)",
        )
    return [match[1], match[2], match[3]]


def _canonical(path: Path, number: int, prefix: str, body: str) -> tuple[str, str, bool]:
    """(the canonical `name{labels}`, the metric name, whether lines must be rewritten to it). Checked
    once per distinct prefix: a file repeats each one for every sample."""
    match = _PREFIX.fullmatch(prefix)
    if match is None:
        _split_slowly(path, number, body)  # raises what is wrong: a quick split only fails on bad lines
        raise _error(path, number, f"not an OpenMetrics sample line: {body[:80]!r}")
    name, labels = match[1], match[2]
    # `name{labels}` with the labels sorted: one series, however its lines order them
    if not labels:
        return name, name, prefix != name
    pairs = _ONE_LABEL.findall(labels)
    seen = set()
    for label, _ in pairs:
        if label in seen:
            raise _error(path, number, f"label {label!r} appears twice in {prefix[:80]!r}")
        seen.add(label)
    canonical = f"{name}{{{','.join(f'{k}={v}' for k, v in sorted(pairs))}}}"
    return canonical, name, canonical != prefix


def write_windows(
    metrics: RecordedMetrics, out_dir: Path, on_written: Callable[[WindowFile], None]
) -> list[WindowFile]:
    """One OpenMetrics file per 2h window, oldest first, each handed to `on_written` once closed.
    The windows are released as they are written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for start in sorted(metrics.windows):
        runs = metrics.windows.pop(start)
        path = out_dir / f"window-{start}.om"
        with path.open("w", encoding="utf-8", buffering=1 << 20) as fh:
            for prefix in sorted(runs, key=lambda p: (runs[p].name, p)):
                fh.write(runs[prefix].text())
            fh.write("# EOF\n")
        window = WindowFile(path=path, start_ms=start, samples=sum(len(r.times) for r in runs.values()))
        written.append(window)
        on_written(window)
    return written
