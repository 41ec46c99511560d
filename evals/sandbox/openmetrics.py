"""Write a World's metric families as OpenMetrics text, the input of `promtool tsdb create-blocks-from`.

promtool (2.42) cuts 2h blocks aligned to 2h epoch boundaries and re-parses its whole input once per
block, so one file for a 3-day history is parsed 36 times. `write_windows` therefore writes one file
per 2h-aligned window: each file is parsed twice (bounds, then its one block) and the files can be
backfilled in parallel while the next one is written.

Choices promtool relies on, each checked by a test:
- Samples of one series are in time order, and a family's lines are contiguous: promtool silently
  DROPS an out-of-order sample, it does not fail.
- NaN means "no sample" in a `Series` and is skipped: promtool would store a NaN sample.
- Types: the TSDB does not keep metric types and promtool 2.42 does not check sample names against
  their family, so types only have to parse. We still write what a real OpenMetrics exporter would,
  so the files also pass stricter parsers: a counter family is named without `_total` and its samples
  end in `_total`; a family whose sample names do not fit its declared type is declared `unknown`.
- Timestamps are in seconds (OpenMetrics). Integer values (request counts, buckets, restarts) are
  written exactly; other values with 12 significant digits (relative error at most 5e-12, far under
  the simulator's noise): Python's shortest round-trip `repr` is twice as slow. Rounding is
  monotonic, so a counter never appears to reset.

Formatting is vectorised: the timestamp strings are built once per file and each series becomes one
string through a single `join`, which keeps writing well above a million samples per second.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from evals.world.model import MetricFamily, Series

WINDOW_MS = 2 * 3600 * 1000  # promtool's block duration, aligned to the epoch

_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count", "_created")


@dataclass(frozen=True)
class WindowFile:
    """One OpenMetrics file holding the samples of one 2h-aligned window."""

    path: Path
    start_ms: int  # inclusive, a multiple of WINDOW_MS
    samples: int


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def family_header(family: MetricFamily) -> str:
    """`# TYPE` and `# HELP` lines under the OpenMetrics family name promtool expects."""
    names = {s.name for s in family.series}
    name, kind = family.name, str(family.type)
    if kind == "counter":
        base = name.removesuffix("_total")
        if names and all(n == f"{base}_total" for n in names):
            name = base
        else:
            kind = "unknown"
    elif kind == "histogram" and not all(
        n.startswith(name) and n[len(name) :] in _HISTOGRAM_SUFFIXES for n in names
    ):
        kind = "unknown"
    header = f"# TYPE {name} {kind}\n"
    if family.help:
        header += f"# HELP {name} {_escape_help(family.help)}\n"
    return header


def series_prefix(series: Series) -> str:
    """`name{label="value",...} ` — everything of a sample line before its value."""
    if not series.labels:
        return f"{series.name} "
    labels = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in series.labels)
    return f"{series.name}{{{labels}}} "


def timestamp_suffixes(timestamps_ms: npt.NDArray[np.int64]) -> list[str]:
    """`" <seconds>\\n"` for every grid point, built once and shared by all series."""
    if timestamps_ms.size and not np.any(timestamps_ms % 1000):
        return [f" {t}\n" for t in (timestamps_ms // 1000).tolist()]
    return [f" {t / 1000:.3f}\n" for t in timestamps_ms.tolist()]


@dataclass(frozen=True)
class _PreparedSeries:
    """What is decided once per series, so that formatting a window is only slicing and joining."""

    prefix: str
    values: npt.NDArray[np.float64]
    present: npt.NDArray[np.bool_] | None  # None: no NaN anywhere
    integer: bool  # every present value is an integer: written exactly and fast
    infinite: bool

    @classmethod
    def of(cls, series: Series) -> _PreparedSeries:
        values = np.asarray(series.values, dtype=np.float64)
        present = ~np.isnan(values)
        finite = values[present]
        integer = bool(np.array_equal(finite, np.trunc(finite)) and np.all(np.abs(finite) < 2.0**53))
        return cls(
            prefix=series_prefix(series),
            values=values,
            present=None if present.all() else present,
            integer=integer,
            infinite=bool(np.isinf(finite).any()),
        )

    def format(self, lo: int, hi: int, suffixes: Sequence[str]) -> tuple[str, int]:
        """Sample lines for grid points [lo, hi) as one string (`suffixes` start at lo), and their count."""
        values = self.values[lo:hi]
        if self.present is not None:
            present = self.present[lo:hi]
            if not present.all():
                keep = np.flatnonzero(present)
                if keep.size == 0:
                    return "", 0
                values = values[keep]
                suffixes = [suffixes[i] for i in keep.tolist()]
        if self.integer:
            texts = list(map(int.__repr__, values.astype(np.int64).tolist()))
        else:
            texts = list(map("%.12g".__mod__, values.tolist()))
            if self.infinite:
                texts = [_INFINITY.get(t, t) for t in texts]
        # [prefix, value, " ts\n", prefix, value, ...] joined once: no per-line string is built.
        parts = [self.prefix] * (3 * len(texts))
        parts[1::3] = texts
        parts[2::3] = suffixes
        return "".join(parts), len(texts)


_INFINITY = {"inf": "+Inf", "-inf": "-Inf"}
_Prepared = list[tuple[str, list[_PreparedSeries]]]


def _prepare(families: Sequence[MetricFamily]) -> _Prepared:
    return [(family_header(f), [_PreparedSeries.of(s) for s in f.series]) for f in families]


def _write_range(
    out: Callable[[str], object], prepared: _Prepared, lo: int, hi: int, suffixes: Sequence[str]
) -> int:
    samples = 0
    for header, series in prepared:
        chunks = []
        for one in series:
            text, n = one.format(lo, hi, suffixes)
            if n:
                chunks.append(text)
                samples += n
        if chunks:
            out(header + "".join(chunks))
    return samples


def write_openmetrics(
    families: Sequence[MetricFamily], timestamps_ms: npt.NDArray[np.int64], path: Path
) -> int:
    """Write every sample to one file; returns the number of samples written."""
    suffixes = timestamp_suffixes(timestamps_ms)
    with path.open("w", encoding="utf-8", buffering=1 << 20) as fh:
        samples = _write_range(fh.write, _prepare(families), 0, len(timestamps_ms), suffixes)
        fh.write("# EOF\n")
    return samples


def window_ranges(timestamps_ms: npt.NDArray[np.int64]) -> list[tuple[int, int, int]]:
    """(window start ms, first index, end index) of each 2h-aligned window the grid touches."""
    if timestamps_ms.size == 0:
        return []
    first = int(timestamps_ms[0]) // WINDOW_MS * WINDOW_MS
    starts = np.arange(first, int(timestamps_ms[-1]) + 1, WINDOW_MS, dtype=np.int64)
    bounds = np.searchsorted(timestamps_ms, np.append(starts, starts[-1] + WINDOW_MS), side="left")
    return [
        (int(s), int(a), int(b)) for s, a, b in zip(starts, bounds[:-1], bounds[1:], strict=True) if b > a
    ]


def write_windows(
    families: Sequence[MetricFamily],
    timestamps_ms: npt.NDArray[np.int64],
    out_dir: Path,
    on_written: Callable[[WindowFile], None] | None = None,
) -> list[WindowFile]:
    """Write one OpenMetrics file per 2h-aligned window, oldest first.

    `on_written` is called as soon as each file is closed, so its backfill can start while the next
    window is being written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    prepared = _prepare(families)
    written: list[WindowFile] = []
    for start_ms, lo, hi in window_ranges(timestamps_ms):
        suffixes = timestamp_suffixes(timestamps_ms[lo:hi])
        path = out_dir / f"window-{start_ms}.om"
        with path.open("w", encoding="utf-8", buffering=1 << 20) as fh:
            samples = _write_range(fh.write, prepared, lo, hi, suffixes)
            fh.write("# EOF\n")
        if samples == 0:
            path.unlink()
            continue
        window = WindowFile(path=path, start_ms=start_ms, samples=samples)
        written.append(window)
        if on_written is not None:
            on_written(window)
    return written
