"""The app without a worker (incidents stay where a test puts them), for contract tests of the routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.assemble import AgentConfig
from server.app import create_app
from server.deps import Services
from server.service_config import ServiceConfig
from tests.server.service_fixture import grants


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    config = ServiceConfig(api_tokens=grants(), state_dir=tmp_path, run_worker=False)
    with TestClient(create_app(config, AgentConfig(state_dir=tmp_path))) as client:
        yield client


def services_of(client: TestClient) -> Services:
    found: Services = client.app.state.services  # type: ignore[attr-defined]
    return found
