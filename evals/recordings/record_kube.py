"""Recording what the Kubernetes tools read: a KubeReader that forwards every call and, the first time
each read is made, takes the same objects as the API returns them (raw JSON, one more request) and
the log text the reader returned.

Objects are taken when the tools read them, not at the end: by then the guard may have rolled a
Deployment back, and the recording must hold what the investigation saw. A raw read that fails never
fails the tool; it becomes a problem the recording reports.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client as k8s

from tools.kube.client import KubeReader, selector_text
from tools.kube.models import Deployment, Event, Node, Pod, ReplicaSet

Obj = dict[str, Any]
ObjKey = tuple[str, str, str]  # (kind, namespace, name)
ReadKey = tuple[str, ...]


class RawKube:
    """The same reads as `KubernetesReader`, answered as the API's JSON (a List's items get their kind
    and apiVersion, as `kubectl get -o json` writes them)."""

    def __init__(self, api: k8s.ApiClient, timeout_s: float) -> None:
        self._core = k8s.CoreV1Api(api)
        self._apps = k8s.AppsV1Api(api)
        self._t = (timeout_s, timeout_s)

    def read(self, key: ReadKey) -> list[Obj]:
        what, *args = key
        return self._fetchers()[what](*args)

    def _fetchers(self) -> dict[str, Callable[..., list[Obj]]]:
        raw: dict[str, Any] = {"_preload_content": False, "_request_timeout": self._t}
        return {
            "deployments": lambda ns: _items(self._apps.list_namespaced_deployment(ns, **raw)),
            "deployment": lambda ns, name: [_one(self._apps.read_namespaced_deployment(name, ns, **raw))],
            "replicasets": lambda ns, sel: _items(
                self._apps.list_namespaced_replica_set(ns, label_selector=sel, **raw)
            ),
            "pods": lambda ns, sel: _items(
                self._core.list_namespaced_pod(ns, label_selector=sel or None, **raw)
            ),
            "pod": lambda ns, name: [_one(self._core.read_namespaced_pod(name, ns, **raw))],
            "events": lambda ns, name: _items(
                self._core.list_namespaced_event(
                    ns, field_selector=f"involvedObject.name={name}" if name else None, **raw
                )
            ),
            "nodes": lambda: _items(self._core.list_node(**raw)),
        }


def _one(response: Any) -> Obj:
    obj: Obj = json.loads(response.data)
    return obj


def _items(response: Any) -> list[Obj]:
    listing = _one(response)
    kind = str(listing.get("kind", "")).removesuffix("List")
    version = listing.get("apiVersion")
    return [{"apiVersion": version, "kind": kind, **item} for item in listing.get("items") or []]


@dataclass
class KubeCapture:
    """Objects by (kind, namespace, name), first sight kept; log text by (namespace, pod, previous),
    the longest read kept (tails of the same log are suffixes of one another). Tools run on several
    threads at once: updates hold the lock."""

    objects: dict[ObjKey, Obj] = field(default_factory=dict)
    logs: dict[tuple[str, str, bool], str] = field(default_factory=dict)
    reads: set[ReadKey] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def claim(self, key: ReadKey) -> bool:
        """Whether this read is the first of its kind (the one that takes the objects)."""
        with self._lock:
            first = key not in self.reads
            self.reads.add(key)
            return first

    def add(self, objects: list[Obj]) -> None:
        with self._lock:
            for obj in objects:
                meta = obj.get("metadata") or {}
                key = (str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name")))
                self.objects.setdefault(key, obj)

    def add_log(self, namespace: str, pod: str, previous: bool, text: str) -> None:
        with self._lock:
            key = (namespace, pod, previous)
            if len(text) > len(self.logs.get(key, "")):
                self.logs[key] = text

    def problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)


class RecordingKube:
    """A KubeReader that forwards to `inner` and captures what each successful read returned."""

    def __init__(self, inner: KubeReader, raw: RawKube | None, capture: KubeCapture) -> None:
        self.inner = inner
        self.raw = raw
        self.capture = capture

    def _take(self, *key: str) -> None:
        if not self.capture.claim(key):
            return
        if self.raw is None:
            self.capture.problem(f"{'/'.join(key)}: not recorded (no API client to read it raw)")
            return
        try:
            self.capture.add(self.raw.read(key))
        except Exception as exc:  # whatever the client raises, the tool's answer stands
            self.capture.problem(f"{'/'.join(key)}: not recorded ({type(exc).__name__}: {exc})")

    def list_deployments(self, namespace: str) -> list[Deployment]:
        result = self.inner.list_deployments(namespace)
        self._take("deployments", namespace)
        return result

    def get_deployment(self, namespace: str, name: str) -> Deployment:
        result = self.inner.get_deployment(namespace, name)
        self._take("deployment", namespace, name)
        return result

    def list_replicasets(self, namespace: str, selector: dict[str, str]) -> list[ReplicaSet]:
        result = self.inner.list_replicasets(namespace, selector)
        self._take("replicasets", namespace, selector_text(selector))
        return result

    def list_pods(self, namespace: str, selector: dict[str, str] | None = None) -> list[Pod]:
        result = self.inner.list_pods(namespace, selector)
        self._take("pods", namespace, selector_text(selector or {}))
        return result

    def list_events(self, namespace: str, object_name: str | None = None) -> list[Event]:
        result = self.inner.list_events(namespace, object_name)
        self._take("events", namespace, object_name or "")
        return result

    def read_pod_log(
        self, namespace: str, pod: str, container: str | None, previous: bool, tail_lines: int
    ) -> str:
        text = self.inner.read_pod_log(namespace, pod, container, previous, tail_lines)
        self.capture.add_log(namespace, pod, previous, text)
        if ("Pod", namespace, pod) not in self.capture.objects:  # a replay serves a log only with its pod
            self._take("pod", namespace, pod)
        return text

    def list_nodes(self) -> list[Node]:
        result = self.inner.list_nodes()
        self._take("nodes")
        return result

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()
