"""The OpenMetrics writer: exact text, 2h windows, and what promtool really stores from it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np

from evals.sandbox.openmetrics import (
    WINDOW_MS,
    escape_label_value,
    family_header,
    series_prefix,
    timestamp_suffixes,
    window_ranges,
    write_openmetrics,
    write_windows,
)
from evals.sandbox.prometheus import find_binary
from evals.world.model import MetricFamily, Series
from tests.evals.sandbox.handmade_world import handmade_world

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+) (\d+(?:\.\d+)?)$")


def _samples(text: str) -> list[tuple[str, str, float, float]]:
    """(name, labels, value, timestamp seconds) of every sample line."""
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        out.append((match[1], match[2] or "", float(match[3]), float(match[4])))
    return out


def test_label_values_are_escaped() -> None:
    assert escape_label_value('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    series = Series("m", (("a", 'x"y'), ("b", "")), np.zeros(1))
    assert series_prefix(series) == 'm{a="x\\"y",b=""} '
    assert series_prefix(Series("m", (), np.zeros(1))) == "m "


def test_headers_follow_openmetrics_naming() -> None:
    counter = MetricFamily("foo_total", "counter", "Foo.\nMore", [Series("foo_total", (), np.zeros(1))])
    assert family_header(counter) == "# TYPE foo counter\n# HELP foo Foo.\\nMore\n"
    odd_counter = MetricFamily("bar", "counter", "", [Series("bar", (), np.zeros(1))])
    assert family_header(odd_counter) == "# TYPE bar unknown\n"
    histogram = MetricFamily("h", "histogram", "", [Series("h_bucket", (), np.zeros(1))])
    assert family_header(histogram) == "# TYPE h histogram\n"


def test_file_holds_every_present_sample_in_order(tmp_path: Path) -> None:
    world = handmade_world()
    path = tmp_path / "all.om"
    written = write_openmetrics(world.families, world.timestamps, path)
    text = path.read_text()

    assert written == world.sample_count
    assert text.endswith("\n# EOF\n") and text.count("# EOF") == 1
    samples = _samples(text)
    assert len(samples) == world.sample_count
    assert not any(np.isnan(value) for _, _, value, _ in samples)
    # One family's lines are contiguous and each series is in time order.
    families = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert families == [
        "http_server_request_duration_seconds",
        "container_cpu_usage_seconds",
        "container_memory_working_set_bytes",
    ]
    by_series: dict[tuple[str, str], list[float]] = {}
    for name, labels, _, ts in samples:
        by_series.setdefault((name, labels), []).append(ts)
    assert all(times == sorted(times) and len(set(times)) == len(times) for times in by_series.values())
    assert 'note="say \\"hi\\"\\\\\\nbye"' in text
    assert 'container_cpu_usage_seconds_total{pod="web-0"}' in text


def test_values_are_exact_for_integers_and_close_otherwise(tmp_path: Path) -> None:
    stamps = np.array([1_000_000, 1_015_000, 1_030_000, 1_045_500], dtype=np.int64)
    values = np.array([3.0, 2.0**52, np.nan, 7.0])
    floats = np.array([0.1 + 0.2, 1 / 3, np.inf, -np.inf])
    family = MetricFamily(
        "g", "gauge", "", [Series("g", (("k", "i"),), values), Series("g", (("k", "f"),), floats)]
    )
    write_openmetrics([family], stamps, tmp_path / "v.om")
    lines = (tmp_path / "v.om").read_text().splitlines()
    assert lines[1:4] == ['g{k="i"} 3 1000.000', 'g{k="i"} 4503599627370496 1015.000', 'g{k="i"} 7 1045.500']
    parsed = [float(line.split()[1]) for line in lines[4:8]]
    assert np.allclose(parsed[:2], floats[:2], rtol=1e-11, atol=0)
    assert lines[6:8] == ['g{k="f"} +Inf 1030.000', 'g{k="f"} -Inf 1045.500']


def test_timestamps_are_whole_seconds_when_possible() -> None:
    assert timestamp_suffixes(np.array([1_772_460_000_000], dtype=np.int64)) == [" 1772460000\n"]
    assert timestamp_suffixes(np.array([1_500], dtype=np.int64)) == [" 1.500\n"]


def test_windows_are_aligned_to_two_hours_and_cover_every_point() -> None:
    start = 5 * WINDOW_MS - 60_000  # one minute before a boundary
    stamps = np.arange(start, start + 3 * WINDOW_MS, 60_000, dtype=np.int64)
    ranges = window_ranges(stamps)
    assert [s for s, _, _ in ranges] == [4 * WINDOW_MS, 5 * WINDOW_MS, 6 * WINDOW_MS, 7 * WINDOW_MS]
    assert ranges[0][1:] == (0, 1)  # the lone point before the boundary
    assert ranges[1][1] == 1 and stamps[1] == 5 * WINDOW_MS  # a point on a boundary opens the new window
    covered = [i for _, lo, hi in ranges for i in range(lo, hi)]
    assert covered == list(range(len(stamps)))
    for window_start, lo, hi in ranges:
        assert np.all((stamps[lo:hi] >= window_start) & (stamps[lo:hi] < window_start + WINDOW_MS))


def test_window_files_split_the_same_samples(tmp_path: Path) -> None:
    world = handmade_world()
    seen: list[Path] = []
    windows = write_windows(
        world.families, world.timestamps, tmp_path, on_written=lambda w: seen.append(w.path)
    )
    assert seen == [w.path for w in windows]
    assert len(windows) == 4  # 09:00-14:00 touches 08-10, 10-12, 12-14 and the point at 14:00
    assert sum(w.samples for w in windows) == world.sample_count
    for window in windows:
        text = window.path.read_text()
        assert text.endswith("# EOF\n")
        times = [ts * 1000 for _, _, _, ts in _samples(text)]
        assert len(times) == window.samples
        assert min(times) >= window.start_ms and max(times) < window.start_ms + WINDOW_MS


def test_promtool_stores_exactly_the_samples_written(tmp_path: Path) -> None:
    """promtool silently drops out-of-order samples and keeps NaN ones: count what it stored."""
    world = handmade_world()
    windows = write_windows(world.families, world.timestamps, tmp_path / "om")
    promtool = find_binary("promtool")
    for window in windows:
        subprocess.run(
            [
                promtool,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "-q",
                str(window.path),
                str(tmp_path / "tsdb"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    metas = [json.loads(p.read_text()) for p in (tmp_path / "tsdb").glob("*/meta.json")]
    assert len(metas) == len(windows)
    assert sum(m["stats"]["numSamples"] for m in metas) == world.sample_count
    assert sum(m["stats"]["numSeries"] for m in metas) >= sum(len(f.series) for f in world.families)
    assert sorted(m["minTime"] // WINDOW_MS * WINDOW_MS for m in metas) == [w.start_ms for w in windows]
