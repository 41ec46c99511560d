"""Fixtures for the Kubernetes emulator tests (imported by each test module, not a conftest, so other
sandbox tests in this folder are unaffected): a fresh emulator per test (in a thread, over real
HTTP) and official-client APIs pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import client

from evals.sandbox.kube import run_in_thread
from tests.evals.sandbox.kube_world import small_world


@dataclass
class Cluster:
    url: str
    # Typed as Any on purpose: the client's models make every field Optional, and a None check on
    # each attribute would bury what the tests assert (a None fails the assertion anyway).
    core: Any
    apps: Any
    raw: client.ApiClient


@pytest.fixture(name="cluster")
def cluster_fixture() -> Iterator[Cluster]:
    with run_in_thread(small_world()) as running:
        config = client.Configuration()
        config.host = running.url
        api_client = client.ApiClient(config)
        yield Cluster(running.url, client.CoreV1Api(api_client), client.AppsV1Api(api_client), api_client)
        api_client.close()
