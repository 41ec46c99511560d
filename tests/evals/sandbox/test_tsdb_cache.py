"""The cache of backfilled TSDBs: a second `up` of the same scenario serves the same history without
running promtool, another seed is backfilled anew, and two processes keeping one scenario agree."""

from __future__ import annotations

import shutil
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from evals.sandbox import tsdb_cache
from evals.sandbox.sandbox import SandboxConfig, SandboxInfo, down_all, up_timed
from evals.scenario import load_scenario

SCENARIO = Path(__file__).parent / "scenarios" / "small-shop-bad-deploy.yaml"
TOTAL = "sum(http_server_request_duration_seconds_count)"


def _counting_promtool(directory: Path, calls: Path) -> Path:
    """The real promtool, with a line appended to `calls` for each run."""
    real = shutil.which("promtool")
    if real is None:
        pytest.fail(
            "promtool not found: install Prometheus (apt-get install prometheus) to run sandbox tests"
        )
    wrapper = directory / "promtool"
    wrapper.write_text(f'#!/bin/sh\necho run >> "{calls}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper


def _runs(calls: Path) -> int:
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def _total(info: SandboxInfo, at: float) -> str:
    body = httpx.get(f"{info.prometheus_url}/api/v1/query", params={"query": TOTAL, "time": at}).json()
    return str(body["data"]["result"][0]["value"][1])


@pytest.fixture
def config(tmp_path: Path) -> Iterator[SandboxConfig]:
    promtool = _counting_promtool(tmp_path, tmp_path / "calls")
    config = SandboxConfig(
        state_dir=tmp_path / "state",
        promtool_bin=str(promtool),
        start_timeout_s=90,
        tsdb_cache_dir=tmp_path / "cache",
    )
    yield config
    down_all(config)


@pytest.mark.sandbox
def test_the_same_scenario_is_backfilled_once_and_serves_the_same_history(
    config: SandboxConfig, tmp_path: Path
) -> None:
    calls, scenario = tmp_path / "calls", load_scenario(SCENARIO)
    at = scenario.end_utc.timestamp()
    first, first_timings = up_timed(scenario, config, name="first")
    backfills = _runs(calls)
    assert backfills > 0 and "tsdb_restored" not in first_timings

    second, second_timings = up_timed(scenario, config, name="second")
    assert _runs(calls) == backfills, "promtool ran again"
    assert second_timings["tsdb_restored"] == 1.0
    assert _total(second, at) == _total(first, at)
    assert (second.traces_dir / "traces.jsonl").read_bytes() == (
        first.traces_dir / "traces.jsonl"
    ).read_bytes()

    reseeded = tmp_path / "reseeded.yaml"
    reseeded.write_text(SCENARIO.read_text().replace("\nseed: 7\n", "\nseed: 8\n"))
    other, _ = up_timed(reseeded, config, name="other")
    assert _runs(calls) == 2 * backfills, "another seed is another history"
    assert _total(other, at) != _total(first, at)


def test_a_scenario_kept_twice_keeps_the_first_copy_whole(tmp_path: Path) -> None:
    """Two processes that backfilled the same scenario both keep it: the second one's copy is dropped."""
    cache = tmp_path / "cache"
    for name in ("a", "b"):
        block = tmp_path / name / "01BLOCK"
        block.mkdir(parents=True)
        (block / "meta.json").write_text(name)
        tsdb_cache.keep(cache, "digest", tmp_path / name)
    assert [p.name for p in cache.iterdir()] == ["digest"]  # no partial copy left behind

    restored = tmp_path / "restored"
    assert tsdb_cache.restore(cache, "digest", restored)
    assert (restored / "01BLOCK" / "meta.json").read_text() == "a"
    assert not tsdb_cache.restore(cache, "other", tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()


def test_a_second_claim_of_a_scenario_waits_for_the_first(tmp_path: Path) -> None:
    """What keeps two workers from backfilling the same scenario at once."""
    order: list[str] = []

    def second() -> None:
        with tsdb_cache.claim(tmp_path, "digest"):
            order.append("second")

    with tsdb_cache.claim(tmp_path, "digest"):
        waiting = threading.Thread(target=second)
        waiting.start()
        waiting.join(timeout=0.5)
        order.append("first done")
    waiting.join(timeout=10)
    assert order == ["first done", "second"]
    with tsdb_cache.claim(tmp_path, "other"):  # another scenario is not held up
        pass
