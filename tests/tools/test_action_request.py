"""ActionRequest: targets parsed and refused, params validated per kind, a stable action_id."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tools.action_request import ActionRequest, ExactAction, TargetRef


def make(**fields: object) -> ActionRequest:
    base: dict[str, object] = {
        "kind": "scale",
        "target": "boutique/deployment/cartservice",
        "params": {"replicas": 4},
        "requested_by": "agent:rules",
        "incident_id": "inc-1",
    }
    base.update(fields)
    return ActionRequest.model_validate(base)


@pytest.mark.parametrize(
    ("text", "namespace", "resource", "name"),
    [
        ("boutique/deployment/cartservice", "boutique", "deployment", "cartservice"),
        ("sock-shop/pod/carts-7d9f-abcde", "sock-shop", "pod", "carts-7d9f-abcde"),
        (
            "node/ip-10-0-1-7.eu-west-1.compute.internal",
            None,
            "node",
            "ip-10-0-1-7.eu-west-1.compute.internal",
        ),
    ],
)
def test_targets_parse_into_parts(text: str, namespace: str | None, resource: str, name: str) -> None:
    ref = TargetRef.parse(text)
    assert (ref.namespace, ref.resource, ref.name) == (namespace, resource, name)
    assert str(ref) == text


@pytest.mark.parametrize(
    "text",
    [
        "boutique/deployments/cartservice",  # plural
        "boutique/statefulset/redis",  # unsupported resource
        "cartservice",
        "boutique/deployment/",
        "Boutique/deployment/cartservice",  # upper case is not a valid namespace
        "boutique/pod/checkout-*",  # a glob would delete many pods
        "boutique/deployment/cart service",
        "node/a/b",
        "kube-system/deployment/../../x",
        "/deployment/x",
    ],
)
def test_malformed_targets_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="target"):
        make(kind="rollout_restart", target=text, params={})


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("scale", "boutique/pod/cart-1"),
        ("delete_pod", "boutique/deployment/cart"),
        ("cordon", "boutique/pod/x"),
    ],
)
def test_kind_must_fit_the_resource(kind: str, target: str) -> None:
    with pytest.raises(ValidationError, match="acts on a"):
        make(kind=kind, target=target, params={"replicas": 2} if kind == "scale" else {})


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="kind"):
        make(kind="drain", target="node/a", params={})


@pytest.mark.parametrize(
    ("kind", "target", "params", "needle"),
    [
        ("scale", "ns/deployment/a", {}, "replicas"),
        ("scale", "ns/deployment/a", {"replicas": -1}, "replicas"),
        ("scale", "ns/deployment/a", {"replicas": "many"}, "replicas"),
        ("scale", "ns/deployment/a", {"replicas": 3, "force": True}, "force"),
        ("rollback", "ns/deployment/a", {"to_revision": 0}, "to_revision"),
        ("rollout_restart", "ns/deployment/a", {"replicas": 3}, "replicas"),
        ("cordon", "node/a", {"drain": True}, "drain"),
    ],
)
def test_params_are_validated_per_kind(
    kind: str, target: str, params: dict[str, object], needle: str
) -> None:
    with pytest.raises(ValidationError, match=needle):
        make(kind=kind, target=target, params=params)


def test_action_id_is_deterministic_and_names_the_exact_action() -> None:
    a = make()
    assert a.action_id == make(reason="different words", evidence=["ev-1"], requested_by="bob").action_id
    assert a.action_id.startswith("act-") and len(a.action_id) == 36
    assert a.action_id != make(params={"replicas": 5}).action_id
    assert a.action_id != make(target="boutique/deployment/frontend").action_id
    assert a.action_id != make(incident_id="inc-2").action_id
    assert a.action_id != make(kind="rollout_restart", params={}).action_id


def test_unset_optional_params_name_the_same_action() -> None:
    base = {"kind": "rollback", "target": "ns/deployment/a"}
    assert make(**base, params={}).action_id == make(**base, params={"to_revision": None}).action_id
    assert make(**base, params={}).action_id != make(**base, params={"to_revision": 3}).action_id


def test_serialised_request_round_trips_and_a_tampered_id_is_refused() -> None:
    original = make()
    dumped = original.model_dump()
    assert dumped["action_id"] == original.action_id
    assert ActionRequest.model_validate(dumped) == original
    assert ActionRequest.model_validate_json(original.model_dump_json()) == original
    with pytest.raises(ValidationError, match="does not match"):
        ActionRequest.model_validate({**dumped, "action_id": "act-" + "0" * 32})
    with pytest.raises(ValidationError, match="does not match"):
        ActionRequest.model_validate({**dumped, "params": {"replicas": 40}})


def test_exact_keeps_only_identifying_fields() -> None:
    exact = make(reason="why", evidence=["e"]).exact()
    assert isinstance(exact, ExactAction) and not isinstance(exact, ActionRequest)
    assert exact.action_id == make().action_id


def test_requested_by_is_required() -> None:
    with pytest.raises(ValidationError, match="requested_by"):
        make(requested_by="")
