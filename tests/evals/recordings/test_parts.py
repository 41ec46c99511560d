"""Reading a recording's parts for replay: what is kept, what is hidden (later than as_of), and the
shapes promtool and the emulator are given."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from evals.recordings.kube import read_kube
from evals.recordings.manifest import RecordingError
from evals.recordings.metrics import read_metrics, write_windows
from evals.recordings.parts import load_recording
from evals.recordings.spans import copy_spans
from evals.sandbox.kube import build_store
from evals.sandbox.openmetrics import WINDOW_MS, WindowFile
from tests.evals.recordings.minimal import (
    AS_OF,
    CAUSE,
    LATE_LOG,
    LATE_SPAN,
    NAMESPACE,
    pod_names,
    write_recording,
)

T0 = 1_772_452_800  # 2026-03-02T12:00:00Z, a 2h block boundary


def _metrics(tmp_path: Path, text: str, as_of: datetime) -> dict[int, str]:
    path = tmp_path / "m.om"
    path.write_text(text)
    files: dict[int, str] = {}

    def keep(window: WindowFile) -> None:
        files[window.start_ms] = window.path.read_text()

    write_windows(read_metrics([path], as_of), tmp_path / "windows", keep)
    return files


def test_metrics_are_regrouped_per_series_in_time_order_and_cut_at_as_of(tmp_path: Path) -> None:
    text = (
        "# TYPE up gauge\n"
        "# HELP up whether it is up\n"
        f'up{{pod="b",job="x"}} 1 {T0 - 30}\n'  # labels in another order: the same series
        f'req_total{{code="500"}} 4 {T0 + 60} # {{trace_id="abc"}} 1 {T0 + 60}\n'  # an exemplar
        f'up{{job="x",pod="b"}} 0 {T0 - 60}\n'  # out of order: promtool would silently drop it
        f'up{{job="x",pod="b"}} 1 {T0 + 30}.5\n'
        f'req_total{{code="500"}} 9 {T0 + 3600}\n'  # after as_of
        "# EOF\n"
    )
    files = _metrics(tmp_path, text, datetime.fromtimestamp(T0 + 600, UTC))

    before, after = (T0 - 7200) * 1000, T0 * 1000
    assert sorted(files) == [before, after], "one file per 2h window the samples touch"
    assert files[before] == (f'up{{job="x",pod="b"}} 0 {T0 - 60}\nup{{job="x",pod="b"}} 1 {T0 - 30}\n# EOF\n')
    assert files[after] == (
        f'req_total{{code="500"}} 4 {T0 + 60}\nup{{job="x",pod="b"}} 1 {T0 + 30}.5\n# EOF\n'
    )
    assert after - before == WINDOW_MS


def test_the_probe_is_the_newest_sample_kept(tmp_path: Path) -> None:
    path = tmp_path / "m.om"
    path.write_text(f"a 1 {T0}\nb 1 {T0 + 90}\nc 1 {T0 + 9000}\n# EOF\n")
    metrics = read_metrics([path], datetime.fromtimestamp(T0 + 120, UTC))
    assert (metrics.latest_ms, metrics.latest_name, metrics.samples, metrics.dropped) == (
        (T0 + 90) * 1000,
        "b",
        2,
        1,
    )


def test_kube_objects_in_api_shapes_become_the_emulator_state_without_the_future(tmp_path: Path) -> None:
    recording = load_recording(write_recording(tmp_path / "rec"))

    state = read_kube(recording)

    kinds = sorted({(o["apiVersion"], o["kind"]) for o in state.objects})
    assert kinds == [("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("v1", "Event"), ("v1", "Pod")]
    cart_sets = [
        o for o in state.objects if o["kind"] == "ReplicaSet" and o["metadata"]["name"].startswith("cart")
    ]
    assert len(cart_sets) == 2, "both revisions"
    events = [o["metadata"]["name"] for o in state.objects if o["kind"] == "Event"]
    assert events == ["cart-rollout"], "the event after as_of is hidden"
    [log] = state.logs
    assert (log.namespace, log.pod, log.container, log.previous) == (
        NAMESPACE,
        pod_names(CAUSE)[0],
        CAUSE,
        False,
    )
    assert len(log.lines) == 3 and not any(LATE_LOG in line for line in log.lines)
    build_store(state)  # the emulator accepts it


def test_objects_created_after_as_of_are_hidden_with_their_logs(tmp_path: Path) -> None:
    folder = write_recording(tmp_path / "rec")
    path = folder / "kube" / "pods.json"
    pods = json.loads(path.read_text())
    late = json.loads(json.dumps(pods[-1]))
    late["metadata"]["name"] = "pay-84c6d9f7b-later"
    late["metadata"]["creationTimestamp"] = (AS_OF + timedelta(minutes=3)).isoformat()
    del late["metadata"]["namespace"]  # in the manifest's namespace
    path.write_text(json.dumps([*pods, late]))
    (folder / "logs" / "pay-84c6d9f7b-later.log").write_text(
        f"{(AS_OF + timedelta(minutes=4)).isoformat()} up\n"
    )

    state = read_kube(load_recording(folder))

    assert "pay-84c6d9f7b-later" not in {o["metadata"]["name"] for o in state.objects}
    assert [log.pod for log in state.logs] == [pod_names(CAUSE)[0]]


def test_spans_that_ended_after_as_of_are_dropped_and_the_rest_kept_as_written(tmp_path: Path) -> None:
    recording = load_recording(write_recording(tmp_path / "rec"))
    source = recording.files("spans")

    stats = copy_spans(source, AS_OF, tmp_path / "traces")

    assert (stats.spans, stats.dropped) == (2, 1)
    copied = json.loads((tmp_path / "traces" / "traces.jsonl").read_text())
    ids = [s["spanId"] for r in copied["resourceSpans"] for sc in r["scopeSpans"] for s in sc["spans"]]
    assert LATE_SPAN not in ids and len(ids) == 2
    unchanged = copy_spans(source, AS_OF + timedelta(minutes=5), tmp_path / "all")
    assert unchanged.dropped == 0
    assert (tmp_path / "all" / "traces.jsonl").read_text() == source[0].read_text()


def test_a_timestamp_in_milliseconds_is_an_error_not_a_sample_hidden_after_as_of(tmp_path: Path) -> None:
    path = tmp_path / "m.om"
    path.write_text(f"up 1 {T0}\nup 1 {T0 + 30}000\n# EOF\n")
    with pytest.raises(RecordingError, match=r"m\.om:2: timestamp .* is in milliseconds"):
        read_metrics([path], datetime.fromtimestamp(T0 + 60, UTC))
