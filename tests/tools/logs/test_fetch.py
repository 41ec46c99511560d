"""Pod logs for the ranking over real HTTP: the official client against the Kubernetes emulator
(`evals.sandbox.kube`, a test fixture here), one pod of which cannot be read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from evals.sandbox.kube.kubeconfig import write_kubeconfig
from evals.sandbox.kube.runner import run_in_thread
from evals.sandbox.kube.state import KubeState, PodLogRecord
from tests.tools.prom_fixture import AS_OF, free_port
from tools.kube.client import KubernetesReader
from tools.logs.fetch import LogFetchLimits, fetch_pod_logs
from tools.logs.signals import log_signals

NS = "shop"
START = AS_OF - timedelta(minutes=40)


def _ts(delta: timedelta) -> str:
    return (AS_OF + delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _deployment(name: str) -> dict[str, object]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": f"{name}:v1"}]},
            },
        },
    }


def _pod(
    name: str, app: str, containers: list[str], restarts: int = 0, started: bool = True
) -> dict[str, object]:
    statuses = [
        {
            "name": c,
            "ready": True,
            "restartCount": restarts,
            "image": f"{app}:v1",
            "imageID": "",
            "state": {"running": {"startedAt": _ts(-timedelta(hours=2))}},
        }
        for c in containers
    ]
    status: dict[str, object] = (
        {"phase": "Running", "containerStatuses": statuses} if started else {"phase": "Pending"}
    )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": app}},
        "spec": {"nodeName": "node-a", "containers": [{"name": c, "image": f"{app}:v1"} for c in containers]},
        "status": status,
    }


def _lines(minutes: range, text: str) -> list[str]:
    return [f"{_ts(-timedelta(minutes=m))} {text.format(m=m)}" for m in minutes]


CHECKOUT_A = (
    _lines(
        range(50, 41, -1), "INFO  c.s.CheckoutServiceImpl#51 [placeOrder][order {m} placed]"
    )  # before START
    + _lines(range(32, 0, -1), "INFO  c.s.CheckoutServiceImpl#51 [placeOrder][order {m} placed]")
    + _lines(
        range(3, 0, -1), "ERROR c.s.CheckoutServiceImpl#88 [placeOrder][db login failed password=hunter2]"
    )
    + _lines(range(-1, -4, -1), "ERROR c.s.CheckoutServiceImpl#88 [placeOrder][written after as_of]")
)

STATE = KubeState(
    objects=[
        _deployment("checkout"),
        _deployment("cart"),
        _deployment("worker"),
        _pod("checkout-6d4b8c9f7-aaaaa", "checkout", ["app"]),
        _pod("checkout-6d4b8c9f7-bbbbb", "checkout", ["app"], restarts=2),
        _pod("cart-7f9c5d6b8-ccccc", "cart", ["app", "istio-proxy"]),
        # Pending with two containers and no status yet: its log cannot be read
        _pod("worker-5c6d7e8f9-ddddd", "worker", ["app", "sidecar"], started=False),
    ],
    logs=[
        PodLogRecord(namespace=NS, pod="checkout-6d4b8c9f7-aaaaa", container="app", lines=CHECKOUT_A),
        PodLogRecord(
            namespace=NS,
            pod="checkout-6d4b8c9f7-bbbbb",
            container="app",
            lines=_lines(range(12, 0, -1), "INFO  c.s.CheckoutServiceImpl#51 [placeOrder][order {m} placed]"),
        ),
        PodLogRecord(
            namespace=NS,
            pod="cart-7f9c5d6b8-ccccc",
            container="app",
            lines=_lines(range(25, 0, -1), "INFO  c.c.CartController#20 [getCart][cart {m} read]"),
        ),
        PodLogRecord(
            namespace=NS,
            pod="cart-7f9c5d6b8-ccccc",
            container="istio-proxy",
            lines=_lines(
                range(30, 0, -2), '[2025-01-15T11:30:00.000Z] "GET /cart/{m} HTTP/1.1" 200 - 0 88 3 2'
            ),
        ),
    ],
)


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubernetesReader]:
    with run_in_thread(STATE) as emulator:
        kubeconfig = write_kubeconfig(emulator.url, tmp_path_factory.mktemp("kube") / "kubeconfig")
        reader = KubernetesReader.from_kubeconfig(Path(kubeconfig), timeout_s=5)
        yield reader
        reader.close()


def test_an_unreadable_pod_is_skipped_and_named_and_the_others_are_read(kube: KubernetesReader) -> None:
    fetched = fetch_pod_logs(kube, NS, START, AS_OF, limits=LogFetchLimits(lines_per_pod=30))

    assert fetched.reason is None
    assert list(fetched.skipped) == ["worker-5c6d7e8f9-ddddd"]
    assert "container" in fetched.skipped["worker-5c6d7e8f9-ddddd"]
    assert fetched.pod_service == {
        "checkout-6d4b8c9f7-aaaaa": "checkout",
        "checkout-6d4b8c9f7-bbbbb": "checkout",
        "cart-7f9c5d6b8-ccccc": "cart",
        "worker-5c6d7e8f9-ddddd": "worker",
    }
    assert {line.entity for line in fetched.lines} == {"checkout", "cart"}
    # both containers of the cart pod are read; nothing before START or after as_of
    assert any("GET /cart/" in line.message for line in fetched.lines)
    assert all(START.timestamp() <= line.time <= AS_OF.timestamp() for line in fetched.lines)
    assert not any("after as_of" in line.message for line in fetched.lines)
    # lines arrive as the application wrote them, without the Kubernetes timestamp, redacted
    errors = [line.message for line in fetched.lines if line.message.startswith("ERROR")]
    assert errors and all("hunter2" not in m and "password=[REDACTED]" in m for m in errors)
    assert [line.time for line in fetched.lines] == sorted(line.time for line in fetched.lines)


def test_a_cut_or_restarted_pod_marks_its_service_complete_only_from_its_first_line(
    kube: KubernetesReader,
) -> None:
    fetched = fetch_pod_logs(kube, NS, START, AS_OF, limits=LogFetchLimits(lines_per_pod=30))
    # pod a has 47 lines up to as_of: its last 30 start 24 minutes before as_of; pod b restarted
    # and its log starts 12 minutes before: the service is complete from the later of the two
    assert fetched.cut == ["checkout-6d4b8c9f7-aaaaa"]
    assert fetched.covered_from == {"checkout": (AS_OF - timedelta(minutes=12)).timestamp()}

    step = 60.0
    times = np.arange(START.timestamp(), AS_OF.timestamp(), step)
    matrix = log_signals(fetched.lines, times, step, covered_from=fetched.covered_from)
    keys = [(k.entity, k.signal) for k in matrix.keys]
    checkout_errors = matrix.values[keys.index(("checkout", "log_errors"))]
    # before the service's lines are complete: missing, not quiet; after: the one error a minute
    assert np.all(np.isnan(checkout_errors[times < fetched.covered_from["checkout"]]))
    assert np.nanmax(checkout_errors) == 1


def test_a_budget_shared_by_every_pod_bounds_the_total(kube: KubernetesReader) -> None:
    fetched = fetch_pod_logs(
        kube, NS, START, AS_OF, limits=LogFetchLimits(lines_per_pod=1000, total_lines=20)
    )
    assert len(fetched.lines) <= 20 and fetched.cut  # 20 lines for 4 pods: 5 each


def test_what_quiet_pods_leave_of_the_budget_goes_to_the_pods_cut(kube: KubernetesReader) -> None:
    # 100 lines for 4 pods: 25 each at first, which cuts checkout a (44 lines by as_of) and cart (25
    # and 15 in its two containers); checkout b used 12 and the Pending pod none, so the two cut
    # pods are read again with 88 lines between their three containers: cart whole, a's last 29
    fetched = fetch_pod_logs(
        kube, NS, START, AS_OF, limits=LogFetchLimits(lines_per_pod=1000, total_lines=100)
    )
    assert fetched.cut == ["checkout-6d4b8c9f7-aaaaa"]
    cart = [line for line in fetched.lines if line.entity == "cart"]
    assert len(cart) == 25 + 15
    equal_share = fetch_pod_logs(kube, NS, START, AS_OF, limits=LogFetchLimits(lines_per_pod=25))
    assert fetched.covered_from["checkout"] == equal_share.covered_from["checkout"]  # b restarted
    a_lines = len([line for line in fetched.lines if line.entity == "checkout"]) - 12
    assert a_lines == 29 - 3  # its tail of 29 holds the 3 lines written after as_of
    assert len(fetched.lines) <= 100


def test_kubernetes_out_of_reach_is_a_reason_not_an_error(tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(f"http://127.0.0.1:{free_port()}", tmp_path / "kubeconfig")
    reader = KubernetesReader.from_kubeconfig(kubeconfig, timeout_s=2)
    fetched = fetch_pod_logs(reader, NS, START, AS_OF)
    reader.close()
    assert fetched.lines == [] and fetched.reason is not None and "unreachable" in fetched.reason
