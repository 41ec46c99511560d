"""The Kubernetes read Protocol and its implementation on the official `kubernetes` client.

Every call leaves through `KubernetesReader._call`, which sets the request timeout and maps failures
once: 404 -> UnknownEntity, 400/422 -> BadQuery (with the Status message), 401/403 -> BackendError naming RBAC, a timeout -> BackendTimeout, anything
else (refused connection, 5xx) -> BackendError. urllib3 retries are off so the timeout is the bound.
An unreachable or silent API names its address and the settings that chose it (`SETTINGS`).
Nothing here writes: the only mutating code is `tools/actions.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from tools.errors import BackendError, BackendTimeout, BadQuery, UnknownEntity
from tools.kube import convert
from tools.kube.models import Deployment, Event, Node, Pod, ReplicaSet

T = TypeVar("T")
SETTINGS = "MEDIC_KUBECONFIG (or KUBECONFIG), or MEDIC_KUBE_IN_CLUSTER in a pod"


@runtime_checkable
class KubeReader(Protocol):
    """Read-only Kubernetes access. Raises `tools.errors` types; never blocks past its timeout."""

    def list_deployments(self, namespace: str) -> list[Deployment]: ...

    def get_deployment(self, namespace: str, name: str) -> Deployment: ...

    def list_replicasets(self, namespace: str, selector: dict[str, str]) -> list[ReplicaSet]: ...

    def list_pods(self, namespace: str, selector: dict[str, str] | None = None) -> list[Pod]: ...

    def list_events(self, namespace: str, object_name: str | None = None) -> list[Event]: ...

    def read_pod_log(
        self, namespace: str, pod: str, container: str | None, previous: bool, tail_lines: int
    ) -> str:
        """The last `tail_lines` lines, each prefixed with its RFC 3339 timestamp."""
        ...

    def list_nodes(self) -> list[Node]: ...


def selector_text(selector: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def _status_message(exc: ApiException) -> str:
    """The `message` of the Kubernetes Status body, which says what was wrong."""
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except (ValueError, AttributeError):
        return str(exc.reason)


def _is_timeout(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, urllib3.exceptions.NewConnectionError):  # refused; subclasses ConnectTimeoutError
            return False
        if isinstance(seen, (urllib3.exceptions.TimeoutError, TimeoutError)):
            return True
        reason = getattr(seen, "reason", None)
        if isinstance(reason, BaseException) and reason is not seen and _is_timeout(reason):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class KubernetesReader:
    """KubeReader over the official client, from a kubeconfig file or the in-cluster service account."""

    def __init__(self, api_client: k8s.ApiClient, timeout_s: float) -> None:
        self._api = api_client
        self._core = k8s.CoreV1Api(api_client)
        self._apps = k8s.AppsV1Api(api_client)
        self.timeout_s = timeout_s

    @classmethod
    def from_kubeconfig(cls, path: Path, timeout_s: float, context: str | None = None) -> KubernetesReader:
        configuration = k8s.Configuration()
        k8s_config.load_kube_config(
            config_file=str(path), context=context, client_configuration=configuration, persist_config=False
        )
        configuration.retries = 0
        return cls(k8s.ApiClient(configuration), timeout_s)

    @classmethod
    def in_cluster(cls, timeout_s: float) -> KubernetesReader:
        configuration = k8s.Configuration()
        k8s_config.load_incluster_config(client_configuration=configuration)
        configuration.retries = 0
        return cls(k8s.ApiClient(configuration), timeout_s)

    def close(self) -> None:
        self._api.close()

    def _call(self, what: str, fn: Callable[[tuple[float, float]], T]) -> T:
        try:
            return fn((self.timeout_s, self.timeout_s))
        except ApiException as exc:
            if exc.status == 404:
                raise UnknownEntity(f"Kubernetes has no {what}") from exc
            if exc.status in (400, 422):  # e.g. a container name that is wrong, or no previous container
                raise BadQuery(f"Kubernetes refused to read {what}: {_status_message(exc)}") from exc
            if exc.status in (401, 403):
                raise BackendError(
                    f"Kubernetes refused to read {what} (HTTP {exc.status}): check the RBAC role"
                ) from exc
            if exc.status == 504 or (exc.status == 0 and _is_timeout(exc)):
                raise BackendTimeout(self._silent(what)) from exc
            raise BackendError(f"Kubernetes failed to read {what}: HTTP {exc.status} {exc.reason}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if _is_timeout(exc):
                raise BackendTimeout(self._silent(what)) from exc
            raise BackendError(
                f"Kubernetes API at {self._host} unreachable while reading {what} ({type(exc).__name__}): "
                f"check {SETTINGS}"
            ) from exc

    @property
    def _host(self) -> str:
        return str(getattr(self._api.configuration, "host", "") or "?")

    def _silent(self, what: str) -> str:
        return (
            f"Kubernetes API at {self._host} did not answer for {what} within {self.timeout_s}s: "
            f"check {SETTINGS}, and MEDIC_TIMEOUT_S"
        )

    def list_deployments(self, namespace: str) -> list[Deployment]:
        items = self._call(
            f"deployments in {namespace}",
            lambda t: self._apps.list_namespaced_deployment(namespace, _request_timeout=t).items,
        )
        return [convert.deployment(d) for d in items]

    def get_deployment(self, namespace: str, name: str) -> Deployment:
        obj = self._call(
            f"deployment {namespace}/{name}",
            lambda t: self._apps.read_namespaced_deployment(name, namespace, _request_timeout=t),
        )
        return convert.deployment(obj)

    def list_replicasets(self, namespace: str, selector: dict[str, str]) -> list[ReplicaSet]:
        items = self._call(
            f"replicasets in {namespace}",
            lambda t: (
                self._apps.list_namespaced_replica_set(
                    namespace, label_selector=selector_text(selector), _request_timeout=t
                ).items
            ),
        )
        return [
            convert.replicaset(r, self._api.sanitize_for_serialization(r.spec.template) if r.spec else None)
            for r in items
        ]

    def list_pods(self, namespace: str, selector: dict[str, str] | None = None) -> list[Pod]:
        items = self._call(
            f"pods in {namespace}",
            lambda t: (
                self._core.list_namespaced_pod(
                    namespace, label_selector=selector_text(selector or {}) or None, _request_timeout=t
                ).items
            ),
        )
        return [convert.pod(p) for p in items]

    def list_events(self, namespace: str, object_name: str | None = None) -> list[Event]:
        field = f"involvedObject.name={object_name}" if object_name else None
        items = self._call(
            f"events in {namespace}",
            lambda t: (
                self._core.list_namespaced_event(namespace, field_selector=field, _request_timeout=t).items
            ),
        )
        events = [convert.event(e) for e in items]
        return [e for e in events if object_name is None or e.object_name == object_name]

    def read_pod_log(
        self, namespace: str, pod: str, container: str | None, previous: bool, tail_lines: int
    ) -> str:
        what = f"{'previous ' if previous else ''}log of pod {namespace}/{pod}" + (
            f" container {container}" if container else ""
        )
        text = self._call(
            what,
            lambda t: self._core.read_namespaced_pod_log(
                pod,
                namespace,
                container=container,
                previous=previous,
                tail_lines=tail_lines,
                timestamps=True,
                _request_timeout=t,
            ),
        )
        return str(text or "")

    def list_nodes(self) -> list[Node]:
        items = self._call("nodes", lambda t: self._core.list_node(_request_timeout=t).items)
        return [convert.node(n) for n in items]
