"""The test-wide guards hold: nothing leaves loopback, and no setting leaks in."""

from __future__ import annotations

import os
import socket

import pytest

from server.settings import load_settings


def test_outside_addresses_are_refused_before_any_packet() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(RuntimeError, match=r"127\.0\.0\.1"),
    ):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never routed, and never tried


def test_loopback_is_allowed() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass


def test_environment_is_clean_and_settings_read_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not [name for name in os.environ if name.startswith("MEDIC_")]
    assert os.environ["DEEPEVAL_TELEMETRY_OPT_OUT"] == "YES"
    monkeypatch.setenv("MEDIC_PROMETHEUS_URL", "http://127.0.0.1:9")
    assert load_settings().prometheus_url == "http://127.0.0.1:9"
