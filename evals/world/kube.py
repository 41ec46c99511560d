"""The Kubernetes objects of the namespace at `end`, as the API server returns them: Namespace,
Nodes, Services, Deployments with their ReplicaSet revision history, Pods and Events."""

from __future__ import annotations

from typing import Any

from evals.scenario import Scenario
from evals.topology import ServiceSpec
from evals.world.events import build_events
from evals.world.faults import Effects
from evals.world.grid import Grid
from evals.world.k8s_format import cpu_quantity, meta, timestamp
from evals.world.kube_nodes import node_object
from evals.world.pod_status import pod_status
from evals.world.pods import Pod, Revision, ServicePods, image

Obj = dict[str, Any]


def build_objects(
    scenario: Scenario, grid: Grid, plans: dict[str, ServicePods], effects: Effects
) -> list[Obj]:
    ns = scenario.topology.namespace
    created = grid.start_ms - 30 * 86_400_000
    objects: list[Obj] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": meta(ns, None, created, labels={"kubernetes.io/metadata.name": ns}),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
    ]
    objects += [node_object(grid, node, created, effects) for node in scenario.topology.nodes]
    for index, (service, spec) in enumerate(scenario.topology.services.items()):
        objects.append(_service(ns, service, spec, index, created))
        if service in plans:
            objects += _deployment_objects(ns, grid, spec, plans[service], effects.node_conditions)
    objects += build_events(scenario, grid, plans, effects)
    return objects


def _service(ns: str, service: str, spec: ServiceSpec, index: int, created_ms: int) -> Obj:
    service_meta = meta(service, ns, created_ms, labels={"app": service})
    if not spec.has_pods:  # an external dependency is reached through a DNS name, not pods
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": service_meta,
            "spec": {"type": "ExternalName", "externalName": f"{service}.example.com"},
            "status": {"loadBalancer": {}},
        }
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": service_meta,
        "spec": {
            "type": "ClusterIP",
            "clusterIP": f"10.96.{index // 200}.{10 + index % 200}",
            "selector": {"app": service},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
        },
        "status": {"loadBalancer": {}},
    }


def container_spec(ns: str, service: str, spec: ServiceSpec, rev: Revision) -> Obj:
    limits = {"cpu": cpu_quantity(spec.cpu_limit), "memory": spec.memory_limit}
    return {
        "name": service,
        "image": image(ns, service, rev.image_tag),
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "env": [{"name": k, "value": v} for k, v in rev.env],
        "resources": {
            "limits": limits,
            "requests": {"cpu": cpu_quantity(spec.cpu_limit / 2), "memory": spec.memory_limit},
        },
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": 8080},
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        "imagePullPolicy": "IfNotPresent",
    }


def _template(ns: str, service: str, spec: ServiceSpec, rev: Revision, with_hash: bool) -> Obj:
    labels = {"app": service, **({"pod-template-hash": rev.hash} if with_hash else {})}
    return {"metadata": {"labels": labels}, "spec": {"containers": [container_spec(ns, service, spec, rev)]}}


def _deployment_objects(
    ns: str, grid: Grid, spec: ServiceSpec, plan: ServicePods, pressure: dict[str, tuple[str, int]]
) -> list[Obj]:
    service, current = plan.service, plan.current
    shown = [p for p in plan.pods if p.end >= grid.n]
    live = [p for p in shown if p.evicted_at is None]
    ready = sum(1 for p in live if not p.crashloop)
    updated = sum(1 for p in live if p.revision is current)
    dep_meta = meta(
        service,
        ns,
        plan.revisions[0].created_ms,
        labels={"app": service},
        annotations={"deployment.kubernetes.io/revision": str(current.number)},
    )
    dep_meta["generation"] = current.number
    available = ready >= spec.replicas
    deployment: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": dep_meta,
        "spec": {
            "replicas": spec.replicas,
            "selector": {"matchLabels": {"app": service}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "revisionHistoryLimit": 10,
            "template": _template(ns, service, spec, current, with_hash=False),
        },
        "status": {
            "observedGeneration": current.number,
            "replicas": len(live),
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": ready,
            **({"unavailableReplicas": spec.replicas - ready} if ready < spec.replicas else {}),
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if available else "False",
                    "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                    "message": "Deployment has minimum availability."
                    if available
                    else "Deployment does not have minimum availability.",
                    "lastTransitionTime": timestamp(current.created_ms),
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable" if available else "ReplicaSetUpdated",
                    "message": f'ReplicaSet "{service}-{current.hash}" has {"successfully progressed" if available else "is progressing"}.',
                    "lastTransitionTime": timestamp(current.created_ms),
                },
            ],
        },
    }
    owner = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": service,
        "uid": dep_meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    objects = [deployment]
    for rev in plan.revisions:
        replicas = spec.replicas if rev is current else 0
        rs_ready = sum(1 for p in live if p.revision is rev and not p.crashloop)
        rs_meta = meta(
            f"{service}-{rev.hash}",
            ns,
            rev.created_ms,
            labels={"app": service, "pod-template-hash": rev.hash},
            annotations={
                "deployment.kubernetes.io/revision": str(rev.number),
                "deployment.kubernetes.io/desired-replicas": str(spec.replicas),
                "deployment.kubernetes.io/max-replicas": str(spec.replicas + 1),
            },
            ownerReferences=[owner],
        )
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": rs_meta,
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": service, "pod-template-hash": rev.hash}},
                    "template": _template(ns, service, spec, rev, with_hash=True),
                },
                "status": {
                    "replicas": sum(1 for p in live if p.revision is rev),
                    "fullyLabeledReplicas": replicas,
                    "readyReplicas": rs_ready,
                    "availableReplicas": rs_ready,
                    "observedGeneration": 1,
                },
            }
        )
        rs_owner = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": rs_meta["name"],
            "uid": rs_meta["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        objects += [
            _pod(ns, grid, spec, p, rs_owner, pressure.get(p.node, ("", 0))[0])
            for p in shown
            if p.revision is rev
        ]
    return objects


def _pod(ns: str, grid: Grid, spec: ServiceSpec, pod: Pod, owner: Obj, pressure: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta(
            pod.name,
            ns,
            pod.created_ms,
            labels={"app": pod.service, "pod-template-hash": pod.revision.hash},
            ownerReferences=[owner],
        ),
        "spec": {
            "nodeName": pod.node,
            "restartPolicy": "Always",
            "serviceAccountName": "default",
            "containers": [container_spec(ns, pod.service, spec, pod.revision)],
        },
        "status": pod_status(ns, grid, pod, pressure),
    }
