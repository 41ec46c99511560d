"""A simulated scenario's world written as a recording: the same telemetry and cluster, in the recording
format (one OpenMetrics file over the whole history, `kubectl get -o json` lists, one log per pod, OTLP
JSON lines). Replaying it must serve what the scenario's sandbox serves."""

from __future__ import annotations

import json
from pathlib import Path

from evals.recordings.manifest import Manifest, Provenance, RecordedAlert, RecordedService, write_manifest
from evals.sandbox.openmetrics import write_openmetrics
from evals.world.model import World
from evals.world.otlp import write_otlp_json


def write_world_recording(world: World, folder: Path) -> Path:
    scenario = world.scenario
    alert = None
    if scenario.alert is not None:
        alert = RecordedAlert(
            labels=scenario.alert.labels,
            annotations=scenario.alert.annotations,
            starts_at=scenario.at(scenario.alert.starts_at),
        )
    services = {
        name: RecordedService(calls=list(spec.calls), kind=spec.kind)
        for name, spec in scenario.topology.services.items()
    }
    manifest = Manifest(
        id=scenario.id,
        title=scenario.title,
        as_of=scenario.end_utc,
        namespace=scenario.topology.namespace,
        nodes=list(scenario.topology.nodes),
        services=services,
        alert=alert,
        question=None if alert else f"is anything wrong in {scenario.topology.namespace}?",
        expect=scenario.expect,
        provenance=Provenance(source=f"the simulated world of scenario {scenario.id}"),
    )
    write_manifest(folder, manifest)
    for part in ("metrics", "kube", "logs", "spans"):
        (folder / part).mkdir(exist_ok=True)
    write_openmetrics(world.families, world.timestamps, folder / "metrics" / "world.om")
    objects = {"apiVersion": "v1", "kind": "List", "items": world.objects}
    (folder / "kube" / "objects.json").write_text(json.dumps(objects))
    for log in world.logs:
        name = f"{log.pod}{'.previous' if log.previous else ''}.log"
        (folder / "logs" / name).write_text("".join(line + "\n" for line in log.lines))
    write_otlp_json(world.spans, folder / "spans" / "traces.jsonl", namespace=scenario.topology.namespace)
    return folder
