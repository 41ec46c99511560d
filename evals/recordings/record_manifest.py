"""The manifest of a recording made from an investigation: what was investigated (the alert or the
question, `as_of`, the namespace) and the services seen (Deployments read, services in the spans read,
and the calls between them from the trace dependency graph's rules)."""

from __future__ import annotations

import re
from datetime import datetime

from agent.incident import Incident
from evals.recordings.manifest import Manifest, Provenance, RecordedAlert, RecordedService, RecordingError
from evals.recordings.record import Recorder
from evals.recordings.record_traces import call_graph
from evals.replayable import Replayable
from evals.scenario import Scenario

SOURCE = "medic investigate --record"


def recording_id(text: str) -> str:
    """A kebab-case id (the manifest's rule) from an incident or scenario id."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:100].strip("-") or "recording"


def namespace_of(incident: Incident, recorder: Recorder) -> str:
    if incident.namespace:
        return incident.namespace
    seen = recorder.namespaces().most_common(1)
    if not seen:
        raise RecordingError(
            "manifest.yaml namespace: the alert has no `namespace` label and the investigation read no "
            "namespaced object; give the alert a namespace label"
        )
    return seen[0][0]


def observed_services(
    recorder: Recorder, namespace: str, named: list[str], as_of: datetime
) -> dict[str, RecordedService]:
    """Deployments read in `namespace`, services of the spans read, and the services `named`; a callee
    seen only as a client span's peer (no Deployment, no spans of its own) is an `external`."""
    deployments = {
        name for (kind, ns, name) in recorder.kube.objects if kind == "Deployment" and ns == namespace
    }
    traces = recorder.traces.traces(as_of)
    instrumented = {span.service for trace in traces for span in trace.spans}
    calls = call_graph(traces)
    names = deployments | instrumented | set(named) | set(calls)
    names |= {callee for callees in calls.values() for callee in callees}
    return {
        name: RecordedService(
            calls=sorted(calls.get(name, set())),
            kind="service" if name in deployments | instrumented | set(named) else "external",
        )
        for name in sorted(names)
    }


def investigation_manifest(incident: Incident, recorder: Recorder, recorded_at: datetime) -> Manifest:
    """The manifest of `medic investigate --record`: the alert (or question) as investigated."""
    namespace = namespace_of(incident, recorder)
    services = observed_services(recorder, namespace, incident.services, incident.as_of)
    if not services:
        raise RecordingError(
            "manifest.yaml services: the investigation read no Deployment or span and the alert names no "
            "service, so the recording would name none"
        )
    alert = None
    if incident.source == "alert":
        alert = RecordedAlert(
            labels={"alertname": "alert", **incident.labels},
            annotations=incident.annotations,
            starts_at=incident.as_of,
        )
    return Manifest(
        id=recording_id(incident.id),
        title=incident.title,
        as_of=incident.as_of,
        namespace=namespace,
        nodes=_nodes(recorder),
        services=services,
        alert=alert,
        question=incident.title if alert is None else None,
        provenance=Provenance(source=SOURCE, recorded_at=recorded_at),
    )


def case_manifest(case: Replayable, recorder: Recorder, recorded_at: datetime) -> Manifest:
    """The manifest of `medic triage --scenario X --record`: the case's alert or question, services as
    its topology (or recording) declares them, and its `expect`, so the recording is scored as the
    case is."""
    source = case.source
    if isinstance(source, Scenario):
        services = {
            name: RecordedService(calls=list(spec.calls), kind=spec.kind)
            for name, spec in source.topology.services.items()
        }
        nodes = list(source.topology.nodes)
    else:
        services, nodes = dict(source.manifest.services), list(source.manifest.nodes)
    alert = None
    if case.alert is not None:
        alert = RecordedAlert(
            labels=case.alert.labels, annotations=case.alert.annotations, starts_at=case.alert.startsAt
        )
    return Manifest(
        id=recording_id(case.id),
        title=case.title,
        as_of=case.as_of,
        namespace=case.namespace,
        nodes=nodes,
        services=services,
        alert=alert,
        question=case.question if alert is None else None,
        expect=case.expect,
        provenance=Provenance(source=f"medic triage --scenario {case.id} --record", recorded_at=recorded_at),
    )


def _nodes(recorder: Recorder) -> list[str]:
    names = {name for (kind, _, name) in recorder.kube.objects if kind == "Node"}
    for (kind, _, _), obj in recorder.kube.objects.items():
        node = (obj.get("spec") or {}).get("nodeName") if kind == "Pod" else None
        if isinstance(node, str) and node:
            names.add(node)
    return sorted(names)
