"""The agent's `rank_root_causes` on an imported Nezha fault, replayed through a real Prometheus and the
recording's spans and logs: metric rows written once a minute, an exception fault that shows only in
the logs and spans of a few minutes. The spans and logs are counted on the query's 15-s grid, as
`medic bench rca --format nezha` counts them; bucketed by the metrics' minute, the fault's minutes
and the little history the recording holds would be a handful of points each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from evals.recordings.importers.nezha import import_nezha
from evals.recordings.manifest import load_manifest
from evals.sandbox.sandbox import SandboxConfig, down_all, up
from tests.evals.bench.rca_fixtures import SEA_FAULT, write_nezha
from tests.sandbox_fixture import tool_context
from tools.registry import default_registry

pytestmark = pytest.mark.sandbox


@pytest.fixture
def sandbox_config(tmp_path: Path) -> Iterator[SandboxConfig]:
    config = SandboxConfig(state_dir=tmp_path / "state", start_timeout_s=90)
    yield config
    down_all(config)


def test_the_tool_counts_spans_and_logs_on_the_query_grid_and_finds_a_fault_only_they_show(
    tmp_path: Path, sandbox_config: SandboxConfig
) -> None:
    root = write_nezha(tmp_path / "nezha")
    folders = [i.folder for i in import_nezha(root, tmp_path / "rec")]
    (folder,) = [f for f in folders if f.name.endswith(SEA_FAULT.strftime("%H%M%S"))]
    manifest = load_manifest(folder)
    assert manifest.expect is not None and manifest.expect.root_cause.service == "sea-svc"
    info = up(folder, sandbox_config)
    with ExitStack() as stack:
        ctx = tool_context(info, manifest.as_of, stack)
        result = default_registry().run("rank_root_causes", {"namespace": manifest.namespace}, ctx)

    assert result.status == "ok", result.summary
    data: Any = result.data
    assert data["step_s"] == 15.0, result.summary  # not the metrics' 60 s: spans and logs joined
    assert data["anomalous"] is True and data["candidates"][0]["entity"] == "sea-svc", result.summary
    sources = {s["source"] for s in data["candidates"][0]["signals"] if s["score"] >= 10.0}
    assert sources and sources <= {"traces", "logs"}, data["candidates"][0]["signals"]
