"""Where the Kubernetes credentials come from: MEDIC_KUBECONFIG, else the standard KUBECONFIG (a list,
whose first existing file is used), never both at once with in-cluster mode. The autouse fixture in
tests/conftest.py clears both variables before each test."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from server.settings import load_settings
from tests.server.medic_process import medic


def _file(path: Path) -> Path:
    path.write_text("apiVersion: v1\nkind: Config\n")
    return path


def test_kubeconfig_is_honoured_when_medic_kubeconfig_is_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _file(tmp_path / "first"), _file(tmp_path / "second")
    missing = tmp_path / "missing"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(missing), str(first), str(second)]))
    assert load_settings().tools_config().kubeconfig == first


def test_medic_kubeconfig_wins_over_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ours, theirs = _file(tmp_path / "ours"), _file(tmp_path / "theirs")
    monkeypatch.setenv("KUBECONFIG", str(theirs))
    monkeypatch.setenv("MEDIC_KUBECONFIG", str(ours))
    assert load_settings().tools_config().kubeconfig == ours


def test_a_kubeconfig_list_with_no_existing_file_keeps_the_first_so_opening_it_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert load_settings().tools_config().kubeconfig == tmp_path / "a"


def test_in_cluster_mode_ignores_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(_file(tmp_path / "config")))
    monkeypatch.setenv("MEDIC_KUBE_IN_CLUSTER", "true")
    tools = load_settings().tools_config()
    assert tools.kube_in_cluster and tools.kubeconfig is None


def test_neither_set_means_no_kubernetes() -> None:
    assert load_settings().tools_config().kubeconfig is None


@pytest.mark.parametrize("variable", ["MEDIC_KUBECONFIG", "KUBECONFIG"])
def test_investigate_with_a_kubeconfig_that_does_not_exist_says_so_in_one_line(
    tmp_path: Path, variable: str
) -> None:
    missing = tmp_path / "gone" / "kubeconfig"
    alert = {"labels": {"alertname": "X", "namespace": "shop"}, "startsAt": "2026-03-02T14:00:00Z"}
    payload = tmp_path / "alert.json"
    payload.write_text(json.dumps({"version": "4", "status": "firing", "alerts": [alert]}))
    run = medic("investigate", "--alert", str(payload), cwd=tmp_path, env={variable: str(missing)})
    assert run.returncode == 2, run.stdout + run.stderr
    assert str(missing) in run.stderr and "MEDIC_KUBECONFIG" in run.stderr and "KUBECONFIG" in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
