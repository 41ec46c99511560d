"""The scenario format: shipped files load; each kind of mistake gives one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evals.durations import format_duration, parse_duration
from evals.scenario import SCENARIO_DIR, ScenarioError, load_scenario
from evals.topology import load_shipped, shipped_topologies

GOOD = {
    "id": "shop-bad-deploy",
    "title": "errors after a rollout",
    "seed": 3,
    "topology": "online-boutique",
    "end": "2026-03-02T14:00:00Z",
    "history": "2h",
    "step": "15s",
    "faults": [{"kind": "bad_deploy", "target": "checkoutservice", "start": "-25m"}],
    "alert": {"labels": {"alertname": "FrontendErrors"}, "starts_at": "-20m"},
    "expect": {"root_cause": {"service": "checkoutservice", "kind": "bad_deploy"}},
}


def write(tmp_path: Path, data: object, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def with_changes(**changes: object) -> dict[str, object]:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data.update(changes)
    return data


def test_every_shipped_scenario_loads() -> None:
    files = sorted(SCENARIO_DIR.glob("*.yaml"))
    assert files
    ids = [load_scenario(f).id for f in files]
    assert len(ids) == len(set(ids)), "scenario ids must be unique"
    assert all(f.stem == i for f, i in zip(files, ids, strict=True)), "file name = id"


def test_shipped_topologies_match_the_design() -> None:
    assert shipped_topologies() == ["online-boutique", "sock-shop", "train-ticket"]
    assert load_shipped("online-boutique").namespace == "boutique"
    assert len(load_shipped("online-boutique").services) == 11
    assert len(load_shipped("sock-shop").services) == 13
    assert len(load_shipped("train-ticket").services) == 20


def test_defaults_are_filled(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD))
    assert scenario.faults[0].params == {"error_ratio": 0.3, "latency_factor": 1.5, "image_tag": ""}
    assert scenario.topology.services["redis-cart"].capacity == 1000
    assert scenario.start_utc.isoformat() == "2026-03-02T12:00:00+00:00"


def test_inline_topology_with_defaults(tmp_path: Path) -> None:
    inline = {
        "namespace": "payments",
        "nodes": ["node-a", "node-b"],
        "services": {
            "gateway": {"calls": ["auth", "fx"], "entry": True, "rps": 200, "replicas": 3},
            "auth": {},
            "fx": {"kind": "external"},
        },
    }
    data = with_changes(
        topology=inline,
        faults=[{"kind": "dependency_latency", "target": "fx", "start": "-10m"}],
        expect={"root_cause": {"service": "fx", "kind": "dependency_latency"}},
    )
    scenario = load_scenario(write(tmp_path, data))
    auth = scenario.topology.services["auth"]
    assert (auth.replicas, auth.rps, auth.cpu_limit, auth.capacity) == (2, 50.0, 1.0, 100.0)
    assert scenario.topology.services["fx"].capacity is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"faults": [{"kind": "bad_deplyo", "target": "checkoutservice", "start": "-5m"}]},
            "faults[0].kind: unknown value 'bad_deplyo'; expected 'bad_deploy'",
        ),
        (
            {"faults": [{"kind": "bad_deploy", "target": "checkout", "start": "-5m"}]},
            "faults[0].target: 'checkout' is not a service of topology 'online-boutique'; did you mean 'checkoutservice'?",
        ),
        (
            {"faults": [{"kind": "bad_deploy", "target": "checkoutservice", "start": "25 minutes"}]},
            "faults[0].start: malformed duration '25 minutes'",
        ),
        (
            {"faults": [{"kind": "bad_deploy", "target": "checkoutservice", "start": "-9h"}]},
            "faults[0].start: -9h must be between",
        ),
        (
            {"topology": {"namespace": "x", "services": {"a": {"entry": True, "calls": ["b"]}}}},
            "service 'a' calls unknown service 'b'",
        ),
        (
            {
                "topology": {
                    "namespace": "x",
                    "services": {"a": {"entry": True, "calls": ["b"]}, "b": {"calls": ["a"]}},
                }
            },
            "call cycle a -> b -> a",
        ),
        ({"topology": "online-shop"}, "unknown topology 'online-shop'; shipped: online-boutique, sock-shop"),
        (
            {
                "faults": [
                    {
                        "kind": "bad_deploy",
                        "target": "checkoutservice",
                        "start": "-5m",
                        "params": {"ratio": 1},
                    }
                ]
            },
            "params.ratio: Extra inputs are not permitted (params of bad_deploy: error_ratio",
        ),
        (
            {
                "faults": [
                    {
                        "kind": "bad_deploy",
                        "target": "checkoutservice",
                        "start": "-5m",
                        "params": {"error_ratio": 3},
                    }
                ]
            },
            "params.error_ratio: Input should be less than or equal to 1",
        ),
        (
            {"faults": [{"kind": "node_pressure", "target": "node-9", "start": "-5m"}]},
            "faults[0].target: node_pressure needs node/<name> with a node of the topology",
        ),
        (
            {"faults": [{"kind": "traffic_surge", "target": "cartservice", "start": "-5m"}]},
            "traffic_surge targets an entry service",
        ),
        ({"id": "Shop_Bad"}, "id: String should match pattern"),
        ({"seed": "eleven"}, "seed: Input should be a valid integer"),
        ({"end": "2026-03-02T14:00:00"}, "end: Input should have timezone info"),
        ({"expected": {}}, "expected: unknown field"),
        ({"alert": {"labels": {"severity": "page"}}}, "alert.labels: alert labels need an 'alertname'"),
        ({"step": "0s"}, "history and step must be positive durations"),
    ],
)
def test_each_mistake_gives_one_clear_error(
    tmp_path: Path, changes: dict[str, object], expected: str
) -> None:
    path = write(tmp_path, with_changes(**changes))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert expected in message, message
    assert "Traceback" not in message and "pydantic" not in message, message


def test_missing_field_and_broken_yaml(tmp_path: Path) -> None:
    data = with_changes()
    del data["expect"]
    with pytest.raises(ScenarioError, match=r"expect: required field is missing"):
        load_scenario(write(tmp_path, data))
    with pytest.raises(ScenarioError, match=r"not valid YAML"):
        load_scenario(write(tmp_path, "id: [unclosed\n", "broken.yaml"))
    with pytest.raises(ScenarioError, match=r"expected a mapping"):
        load_scenario(write(tmp_path, "- a\n- b\n", "list.yaml"))
    with pytest.raises(ScenarioError, match=r"neither a file nor a shipped scenario id"):
        load_scenario("no-such-scenario")


@pytest.mark.parametrize("text", ["350ms", "25m", "6h", "3d", "-20m", "1w", "15s"])
def test_durations_round_trip(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


def test_a_deploy_distractor_needs_its_start_and_others_do_not(tmp_path: Path) -> None:
    noisy = with_changes(distractors=[{"kind": "noisy", "target": "adservice"}])
    assert load_scenario(write(tmp_path, noisy)).distractors[0].start is None
    deploy = with_changes(distractors=[{"kind": "deploy", "target": "adservice"}])
    with pytest.raises(ScenarioError, match=r"distractors\[0\]: start: a deploy distractor needs"):
        load_scenario(write(tmp_path, deploy, "deploy.yaml"))
