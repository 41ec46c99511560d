"""Bad recordings: each problem is one `RecordingError`, one line naming the file and the field (or the
line), raised by the same reading a replay does (`check_recording`) before anything is served."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from evals.recordings.manifest import RecordingError
from evals.recordings.replay import check_recording
from evals.replayable import load_replayable
from tests.evals.recordings.minimal import write_recording

Breaker = Callable[[Path], tuple[Path, list[str]]]  # breaks the folder; (the file to name, other words)


def _missing_manifest(folder: Path) -> tuple[Path, list[str]]:
    (folder / "manifest.yaml").unlink()
    return folder, ["no manifest.yaml", "Recordings"]


def _malformed_openmetrics(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "metrics" / "http.om"
    lines = path.read_text().splitlines(keepends=True)
    name, value, ts = lines[7].rsplit(" ", 2)
    lines[7] = f"{name} {value.replace('.', ',') if '.' in value else value + ',5'} {ts}"
    path.write_text("".join(lines))
    return path, [f"{path}:8:", "value", "is not a number"]


def _truncated_openmetrics(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "metrics" / "http.om"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))  # `# EOF` cut off
    return path, [f"{path}:{len(lines) - 1}:", "no '# EOF'"]


def _span_without_id(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "spans" / "traces.jsonl"
    document = json.loads(path.read_text())
    del document["resourceSpans"][1]["scopeSpans"][0]["spans"][0]["spanId"]
    path.write_text(json.dumps(document) + "\n")
    return path, [f"{path}:1:", "resourceSpans[1].scopeSpans[0].spans[0]: no spanId"]


def _expect_unknown_service(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "manifest.yaml"
    data = yaml.safe_load(path.read_text())
    data["expect"]["root_cause"]["service"] = "carts"
    path.write_text(yaml.safe_dump(data))
    return path, ["expect.root_cause.service: unknown service 'carts'"]


def _object_without_name(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "kube" / "pods.json"
    pods = json.loads(path.read_text())
    del pods[1]["metadata"]["name"]
    path.write_text(json.dumps(pods))
    return path, ["[1]: metadata.name is required"]


def _object_twice(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "kube" / "zz-pods.json"  # read after pods.json
    pods = json.loads((folder / "kube" / "pods.json").read_text())
    path.write_text(json.dumps(pods[:1]))
    return path, [f"Pod shop/{pods[0]['metadata']['name']} is there twice", "pods.json"]


def _kind_not_served(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "kube" / "ingresses.json"
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "shop"}}
    path.write_text(json.dumps([ingress]))
    return path, ["[0] (Ingress shop)", "not served by the emulator", "Deployment"]


def _log_without_its_pod(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "logs" / "gone-5d8f9c7b6-zzzzz.log"
    path.write_text("2026-03-02T13:30:00Z hello\n")
    return path, ["no Pod gone-5d8f9c7b6-zzzzz in kube/*.json"]


def _misnamed_metrics_file(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "metrics" / "app.prom"
    path.write_text("# EOF\n")
    return path, ["metrics/ holds only OpenMetrics text files named *.om"]


@pytest.mark.parametrize(
    "breaker",
    [
        _missing_manifest,
        _malformed_openmetrics,
        _truncated_openmetrics,
        _span_without_id,
        _expect_unknown_service,
        _object_without_name,
        _object_twice,
        _kind_not_served,
        _log_without_its_pod,
        _misnamed_metrics_file,
    ],
)
def test_each_problem_is_one_error_naming_the_file_and_field(tmp_path: Path, breaker: Breaker) -> None:
    folder = write_recording(tmp_path / "rec")
    check_recording(folder)  # whole, it is fine
    named, words = breaker(folder)

    with pytest.raises(RecordingError) as raised:
        check_recording(folder)

    message = str(raised.value)
    assert "\n" not in message, "one line"
    assert message.startswith(str(named)), f"names the file first: {message}"
    for word in words:
        assert word in message


def test_a_folder_is_a_recording_only_with_its_manifest(tmp_path: Path) -> None:
    folder = write_recording(tmp_path / "rec")
    assert load_replayable(folder).kind == "recording"
    (folder / "manifest.yaml").unlink()
    with pytest.raises(RecordingError, match=r"no manifest\.yaml"):
        load_replayable(folder)
