"""The raw samples behind the recorded selectors, fetched from Prometheus and written as OpenMetrics.

Raw samples come from range-vector instant queries (`selector[2h]` at the chunk's end), which return
every stored sample with its own timestamp and value text, so nothing is resampled or rounded: a replay
backfilled from the file evaluates `rate`, `increase` and `histogram_quantile` on the same numbers.

A selector of a histogram part (`_bucket`, `_count`, `_sum`) also fetches its siblings under the same
matchers, so the histogram is written whole, declared `histogram` in the file.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from evals.recordings.promql_selectors import Selector
from evals.sandbox.openmetrics import escape_label_value

CHUNK_S = 2 * 3600  # one request per 2h of a selector's window keeps each answer small
FETCHERS = 2
_PARTS = ("_bucket", "_count", "_sum")
LabelSet = tuple[tuple[str, str], ...]  # sorted, __name__ included


class PrometheusFetchError(OSError):
    """Prometheus did not give the raw samples (an I/O failure for the caller, like a refused
    connection); the message names the URL and the query."""


@dataclass
class Samples:
    """Raw samples by series: label set → {timestamp ms: value as Prometheus wrote it}."""

    series: dict[LabelSet, dict[int, str]]

    @property
    def count(self) -> int:
        return sum(len(points) for points in self.series.values())


def with_histogram_parts(starts: Mapping[Selector, datetime]) -> dict[Selector, datetime]:
    """`starts` plus the sibling parts of every histogram part it selects (same matchers, same start)."""
    out = dict(starts)
    for selector, start in starts.items():
        for part in _PARTS:
            if selector.name.endswith(part):
                base = selector.name.removesuffix(part)
                for sibling in _PARTS:
                    key = Selector(base + sibling, selector.matchers)
                    out[key] = min(out.get(key, start), start)
    return out


def fetch_series(
    url: str, starts: Mapping[Selector, datetime], as_of: datetime, timeout_s: float = 30.0
) -> Samples:
    """Every raw sample of the series each selector matches, from its start to `as_of` inclusive."""
    found: dict[LabelSet, dict[int, str]] = defaultdict(dict)
    requests = [
        (f"{selector.text}[{span_s}s]", at)
        for selector, start in sorted(with_histogram_parts(starts).items(), key=lambda kv: kv[0].text)
        for at, span_s in _chunks(start, as_of)
    ]
    # Two requests in flight: Prometheus evaluates one while this process decodes the other.
    with (
        httpx.Client(base_url=url.rstrip("/"), timeout=timeout_s, trust_env=False) as client,
        ThreadPoolExecutor(max_workers=FETCHERS, thread_name_prefix="record-fetch") as pool,
    ):
        for rows in pool.map(lambda request: _matrix(client, url, *request), requests):
            for labels, points in rows:
                found[labels].update(points)
    return Samples(series=dict(found))


def _chunks(start: datetime, end: datetime) -> Iterable[tuple[datetime, int]]:
    """(evaluation instant, range in whole seconds) covering [start, end], newest first."""
    at = end
    while at >= start:
        # +1s: a range selector may leave its left end out (Prometheus 3 does); the sample at `start` counts
        span_s = min(CHUNK_S, math.ceil((at - start).total_seconds()) + 1)
        yield at, span_s
        at -= timedelta(seconds=CHUNK_S)


def _matrix(
    client: httpx.Client, url: str, query: str, at: datetime
) -> list[tuple[LabelSet, dict[int, str]]]:
    try:
        response = client.get("/api/v1/query", params={"query": query, "time": f"{at.timestamp():.3f}"})
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise PrometheusFetchError(f"Prometheus at {url} did not answer {query!r}: {exc}") from exc
    if response.status_code != 200 or body.get("status") != "success":
        raise PrometheusFetchError(
            f"Prometheus at {url} refused {query!r} (HTTP {response.status_code}): {body.get('error', body)}"
        )
    data = body.get("data") or {}
    if data.get("resultType") != "matrix":
        raise PrometheusFetchError(f"Prometheus at {url} answered {query!r} with {data.get('resultType')}")
    return [
        (
            tuple(sorted((str(k), str(v)) for k, v in row.get("metric", {}).items())),
            {round(float(ts) * 1000): str(value) for ts, value in row.get("values", [])},
        )
        for row in data.get("result", [])
    ]


def _families(names: Iterable[str], has_label: Mapping[str, set[str]]) -> dict[str, tuple[str, str]]:
    """Each sample name → (family name, OpenMetrics type). A histogram is a base whose `_bucket`
    series carry `le`; a counter's samples end in `_total`; anything else is `unknown`."""
    names = set(names)
    out: dict[str, tuple[str, str]] = {}
    for name in sorted(names):
        if name.endswith("_bucket") and "le" in has_label.get(name, set()):
            base = name.removesuffix("_bucket")
            for part in (*_PARTS, "_created"):
                if base + part in names:
                    out[base + part] = (base, "histogram")
    for name in names - out.keys():
        if name.endswith("_total"):
            out[name] = (name.removesuffix("_total"), "counter")
        else:
            out[name] = (name, "unknown")
    return out


def _timestamp(ms: int) -> str:
    return str(ms // 1000) if ms % 1000 == 0 else f"{ms // 1000}.{ms % 1000:03d}"


def write_openmetrics(samples: Samples, path: Path) -> int:
    """Write every series, family by family, samples in time order (what promtool needs); returns
    the number of bytes written."""
    by_name: dict[str, list[LabelSet]] = defaultdict(list)
    label_names: dict[str, set[str]] = defaultdict(set)
    for labels in samples.series:
        name = dict(labels).get("__name__", "")
        by_name[name].append(labels)
        label_names[name].update(k for k, _ in labels)
    families = _families((n for n in by_name if n), label_names)
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, family_and_type in families.items():
        grouped[family_and_type].append(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for (family_name, kind), names in sorted(grouped.items()):
            out.write(f"# TYPE {family_name} {kind}\n")
            for name in sorted(names):
                for labels in sorted(by_name[name]):
                    text = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels if k != "__name__")
                    prefix = f"{name}{{{text}}} " if text else f"{name} "
                    points = samples.series[labels]
                    out.writelines(f"{prefix}{points[ms]} {_timestamp(ms)}\n" for ms in sorted(points))
        out.write("# EOF\n")
    return path.stat().st_size
