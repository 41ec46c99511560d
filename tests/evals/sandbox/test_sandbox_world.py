"""The sandbox on a simulated world (not the emulator tests' hand-made one): the official client's
dry-run, selectors, scale and rollback behave on what the simulator wrote, and the files the sandbox
writes (OpenMetrics, kube state, traces) are byte-identical for a seed and differ for another."""

from __future__ import annotations

import shutil
import stat
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client, config

from evals.sandbox.sandbox import SandboxConfig, down, up
from evals.scenario import load_scenario
from tests.sandbox_fixture import SandboxPool

pytestmark = pytest.mark.sandbox

SCENARIO = Path(__file__).parent / "scenarios" / "small-shop-bad-deploy.yaml"  # checkout rolled out at -20m
NS = "shop"
REVISION = "deployment.kubernetes.io/revision"
_COLLECTIONS = (
    "/api/v1/nodes",
    "/api/v1/pods",
    "/api/v1/events",
    "/api/v1/services",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/replicasets",
)


class Apis:
    # Typed as Any on purpose (as in kube_fixtures): the client's models make every field Optional.
    def __init__(self, api: client.ApiClient, url: str) -> None:
        self.raw, self.url = api, url
        self.core: Any = client.CoreV1Api(api)
        self.apps: Any = client.AppsV1Api(api)

    def dump(self) -> dict[str, Any]:
        """Everything the API shows, list resourceVersions (the global write counter) included."""
        with httpx.Client(base_url=self.url, timeout=10, trust_env=False) as http:
            return {path: http.get(path).json() for path in _COLLECTIONS}

    def replica_sets(self, app: str) -> list[Any]:
        found = self.apps.list_namespaced_replica_set(NS, label_selector=f"app={app}").items
        return sorted(found, key=lambda rs: int(rs.metadata.annotations[REVISION]))


@pytest.fixture(name="apis")
def apis_fixture(sandbox_pool: SandboxPool) -> Iterator[Apis]:
    """The official client on the pool's sandbox of the small shop (its own id: no other module's
    sandbox is written to)."""
    _, info = sandbox_pool.get(SCENARIO)
    with config.new_client_from_config(config_file=str(info.kubeconfig), persist_config=False) as api:
        yield Apis(api, info.kubernetes_url)


def _rollback_patch(apis: Apis, revision: Any) -> list[dict[str, Any]]:
    """What `kubectl rollout undo` sends: the old ReplicaSet's template, without its hash label."""
    template = apis.raw.sanitize_for_serialization(revision.spec.template)
    del template["metadata"]["labels"]["pod-template-hash"]
    return [{"op": "replace", "path": "/spec/template", "value": template}]


def test_dry_run_all_changes_nothing_on_a_simulated_world(apis: Apis) -> None:
    before = apis.dump()
    old, _ = apis.replica_sets("checkout")[:2]
    victim = apis.core.list_namespaced_pod(NS, label_selector="app=checkout").items[0].metadata.name
    restart = {
        "spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "t"}}}}
    }
    restarted = apis.apps.patch_namespaced_deployment("checkout", NS, restart, dry_run="All")
    assert restarted.spec.template.metadata.annotations == {"kubectl.kubernetes.io/restartedAt": "t"}
    scaled = apis.apps.patch_namespaced_deployment_scale(
        "checkout", NS, {"spec": {"replicas": 6}}, dry_run="All"
    )
    assert scaled.spec.replicas == 6
    rolled = apis.apps.patch_namespaced_deployment("checkout", NS, _rollback_patch(apis, old), dry_run="All")
    assert rolled.spec.template.spec.containers[0].image == old.spec.template.spec.containers[0].image
    assert apis.core.delete_namespaced_pod(victim, NS, dry_run="All").metadata.name == victim
    assert apis.core.patch_node("node-a", {"spec": {"unschedulable": True}}, dry_run="All").spec.unschedulable
    assert apis.dump() == before


def test_selectors_filter_a_simulated_world(apis: Apis) -> None:
    pods = apis.core.list_namespaced_pod(NS).items
    assert {p.metadata.labels["app"] for p in pods} == {"gateway", "checkout", "catalog", "orders-db"}

    def names(**selectors: str) -> set[str]:
        return {p.metadata.name for p in apis.core.list_namespaced_pod(NS, **selectors).items}

    def where(keep: Any) -> set[str]:
        return {p.metadata.name for p in pods if keep(p)}

    def app(p: Any) -> str:
        return str(p.metadata.labels["app"])

    checkout = names(label_selector="app=checkout")
    assert checkout and all(n.startswith("checkout-") for n in checkout)
    assert checkout == where(lambda p: app(p) == "checkout")
    assert names(label_selector="app!=checkout") == where(lambda p: app(p) != "checkout")
    assert names(label_selector="app in (gateway,catalog)") == where(
        lambda p: app(p) in ("gateway", "catalog")
    )
    assert names(label_selector="app notin (gateway,catalog)") == where(
        lambda p: app(p) in ("checkout", "orders-db")
    )
    current = apis.replica_sets("checkout")[-1].metadata.labels["pod-template-hash"]
    assert names(label_selector=f"app=checkout,pod-template-hash={current}") == checkout
    assert names(label_selector="pod-template-hash") == where(lambda p: True)
    assert names(label_selector="!pod-template-hash") == set()
    for node in ("node-a", "node-b", "node-c"):
        on_node = names(field_selector=f"spec.nodeName={node}")
        assert on_node == where(lambda p, node=node: p.spec.node_name == node)
        assert (
            names(field_selector=f"spec.nodeName={node}", label_selector="app=checkout") == on_node & checkout
        )
    assert [
        d.metadata.name for d in apis.apps.list_namespaced_deployment(NS, label_selector="app=catalog").items
    ] == ["catalog"]
    events = apis.core.list_namespaced_event(
        NS, field_selector=f"involvedObject.name={sorted(checkout)[0]}"
    ).items
    assert events and {e.involved_object.name for e in events} == {sorted(checkout)[0]}


def test_scale_and_rollback_behave_on_a_simulated_world(apis: Apis) -> None:
    apps = apis.apps
    old, new = apis.replica_sets("checkout")[:2]
    assert int(old.metadata.annotations[REVISION]) == 1 and new.metadata.annotations[REVISION] == "2"
    old_hash, new_hash = old.metadata.labels["pod-template-hash"], new.metadata.labels["pod-template-hash"]

    apps.patch_namespaced_deployment_scale("checkout", NS, {"spec": {"replicas": 5}})
    assert apps.read_namespaced_deployment_scale("checkout", NS).status.replicas == 5
    pods = apis.core.list_namespaced_pod(NS, label_selector="app=checkout").items
    assert len(pods) == 5 and {p.metadata.labels["pod-template-hash"] for p in pods} == {new_hash}
    assert len(apis.core.list_namespaced_pod(NS, label_selector="app=gateway").items) == 2  # untouched

    apps.patch_namespaced_deployment("checkout", NS, _rollback_patch(apis, old))
    deployment = apps.read_namespaced_deployment("checkout", NS)
    assert deployment.metadata.annotations[REVISION] == "3"
    assert deployment.spec.template.spec.containers[0].image == old.spec.template.spec.containers[0].image
    history = {
        rs.metadata.labels["pod-template-hash"]: (rs.metadata.annotations[REVISION], rs.spec.replicas)
        for rs in apis.replica_sets("checkout")
    }
    assert history == {old_hash: ("3", 5), new_hash: ("2", 0)}  # the old ReplicaSet is reused
    pods = apis.core.list_namespaced_pod(NS, label_selector="app=checkout").items
    assert len(pods) == 5 and {p.metadata.labels["pod-template-hash"] for p in pods} == {old_hash}
    assert {p.spec.containers[0].image for p in pods} == {old.spec.template.spec.containers[0].image}


# Determinism at the file level ---------------------------------------------------------------------


def _capturing_promtool(directory: Path, capture: Path) -> Path:
    """A promtool that keeps a copy of each OpenMetrics window it is given (the sandbox deletes them
    once backfilled), then runs the real promtool."""
    real = shutil.which("promtool")
    if real is None:
        pytest.fail(
            "promtool not found: install Prometheus (apt-get install prometheus) to run sandbox tests"
        )
    capture.mkdir(parents=True)
    wrapper = directory / "promtool"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# argv: tsdb create-blocks-from openmetrics -q WINDOW_FILE TSDB_DIR\n"
        'for arg; do window="$previous"; previous="$arg"; done\n'
        f'cp "$window" "{capture}/"\n'
        f'exec "{real}" "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper


def _files_of_a_run(scenario_file: Path, root: Path) -> dict[str, bytes]:
    """Bring the scenario up in its own state directory; return the files it wrote, then bring it down."""
    capture = root / "openmetrics"
    sandbox = SandboxConfig(
        state_dir=root / "state", promtool_bin=str(_capturing_promtool(root, capture)), start_timeout_s=60
    )
    scenario = load_scenario(scenario_file)
    info = up(scenario, sandbox)
    try:
        run = sandbox.state_dir.resolve() / scenario.id
        files = {f"openmetrics/{p.name}": p.read_bytes() for p in sorted(capture.iterdir())}
        files["kube-state.json"] = (run / "kube-state.json").read_bytes()
        files["traces.jsonl"] = (info.traces_dir / "traces.jsonl").read_bytes()
    finally:
        down(scenario.id, sandbox)
    assert len(files) >= 3 and all(files.values())
    return files


def _lines(files: dict[str, bytes], prefix: str) -> list[bytes]:
    return [
        line
        for name, data in files.items()
        if name.startswith("openmetrics/")
        for line in data.splitlines()
        if line.startswith(prefix.encode())
    ]


def test_the_same_seed_gives_identical_files_and_another_seed_other_noise(tmp_path: Path) -> None:
    first = _files_of_a_run(SCENARIO, tmp_path / "first")
    second = _files_of_a_run(SCENARIO, tmp_path / "second")
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []

    reseeded = tmp_path / "reseeded.yaml"
    reseeded.write_text(SCENARIO.read_text().replace("\nseed: 7\n", "\nseed: 8\n"))
    assert load_scenario(reseeded).seed == 8
    other = _files_of_a_run(reseeded, tmp_path / "other")
    assert other.keys() == first.keys()
    assert [name for name in first if first[name] == other[name]] == []
    # Same structure: the same families and as many samples of each metric; only the noise differs.
    assert _lines(other, "# TYPE") == _lines(first, "# TYPE")

    def samples(files: dict[str, bytes]) -> Counter[bytes]:
        return Counter(line.split(b"{")[0] for line in _lines(files, "") if not line.startswith(b"#"))

    assert samples(other) == samples(first)
    assert _lines(other, "kube_deployment_spec_replicas") == _lines(first, "kube_deployment_spec_replicas")
    memory = "container_memory_working_set_bytes"
    assert sorted(line.rsplit(b" ", 2)[1] for line in _lines(other, memory)) != sorted(
        line.rsplit(b" ", 2)[1] for line in _lines(first, memory)
    )
