"""What changed on the emulator, counted per action target, from real writes over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from kubernetes import client

from evals.emulator_state import changes, snapshot
from evals.sandbox.kube import RunningEmulator, run_in_thread
from tests.evals.sandbox.kube_world import small_world
from tools.action_request import ActionRequest
from tools.actions import Executor


@pytest.fixture
def emulator() -> Iterator[tuple[RunningEmulator, Executor]]:
    with run_in_thread(small_world()) as running:
        config = client.Configuration()
        config.host = running.url
        api = client.ApiClient(config)
        yield running, Executor(api)
        api.close()


def action(kind: str, target: str, **params: object) -> ActionRequest:
    return ActionRequest.model_validate(
        {
            "incident_id": "inc-1",
            "kind": kind,
            "target": target,
            "params": params,
            "reason": "test",
            "requested_by": "medic",
        }
    )


NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def test_nothing_changes_on_dry_runs(emulator: tuple[RunningEmulator, Executor]) -> None:
    running, executor = emulator
    before = snapshot(running.url)
    executor.execute(action("rollback", "shop/deployment/checkout"), dry_run=True, now=NOW)
    executor.execute(action("delete_pod", "shop/pod/redis-0"), dry_run=True, now=NOW)
    assert changes(before, snapshot(running.url)) == {}


def test_each_send_counts_on_its_target_and_a_rollout_replacing_pods_counts_once(
    emulator: tuple[RunningEmulator, Executor],
) -> None:
    running, executor = emulator
    before = snapshot(running.url)
    rollback = action("rollback", "shop/deployment/checkout")
    executor.execute(rollback, dry_run=False, now=NOW)
    executor.execute(rollback, dry_run=False, now=NOW)  # the same rollback again flips back
    executor.execute(action("delete_pod", "shop/pod/redis-0"), dry_run=False, now=NOW)
    executor.execute(action("cordon", "node/node-b"), dry_run=False, now=NOW)
    assert changes(before, snapshot(running.url)) == {
        "shop/deployment/checkout": 2,  # its replaced pods are the rollouts', not deletions of their own
        "shop/pod/redis-0": 1,
        "node/node-b": 1,
    }


def test_a_deleted_pod_of_an_unchanged_deployment_counts_as_that_pod(
    emulator: tuple[RunningEmulator, Executor],
) -> None:
    running, executor = emulator
    before = snapshot(running.url)
    executor.execute(action("delete_pod", "shop/pod/checkout-bbb222-x1aaa"), dry_run=False, now=NOW)
    restart = action("rollout_restart", "shop/deployment/checkout")
    executor.execute(restart, dry_run=False, now=NOW + timedelta(minutes=1))
    found = changes(before, snapshot(running.url))
    # the restart replaced every pod, the deleted one included: one change of the deployment
    assert found == {"shop/deployment/checkout": 1}


def test_a_change_no_action_can_make_is_counted(emulator: tuple[RunningEmulator, Executor]) -> None:
    running, _ = emulator
    before = snapshot(running.url)
    config = client.Configuration()
    config.host = running.url
    with client.ApiClient(config) as api:
        client.CoreV1Api(api).patch_namespaced_service(
            "checkout", "shop", {"spec": {"ports": [{"port": 81, "targetPort": 8080}]}}
        )
    assert changes(before, snapshot(running.url)) == {"shop/service/checkout": 1}
