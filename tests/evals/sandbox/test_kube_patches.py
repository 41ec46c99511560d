"""The patch flavours and selector grammar on their own, where the edge cases are easy to state."""

from __future__ import annotations

import pytest
from kmock import KubernetesError

from evals.sandbox.kube.patches import json_patch, merge_patch, strategic_merge_patch
from evals.sandbox.kube.selectors import parse_field_selector, parse_label_selector

POD_SPEC = {
    "containers": [
        {"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
        {"name": "sidecar", "image": "s:1"},
    ]
}


def test_strategic_merge_merges_keyed_lists_and_honours_directives() -> None:
    patch = {
        "containers": [
            {"name": "app", "env": [{"name": "B", "$patch": "delete"}, {"name": "C", "value": "3"}]}
        ]
    }
    result = strategic_merge_patch(POD_SPEC, patch)
    assert [c["name"] for c in result["containers"]] == ["app", "sidecar"]
    assert result["containers"][0]["env"] == [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]
    assert result["containers"][0]["image"] == "a:1"
    replaced = strategic_merge_patch(
        POD_SPEC, {"containers": [{"name": "only", "image": "o"}, {"$patch": "replace"}]}
    )
    assert replaced["containers"] == [{"name": "only", "image": "o"}]
    assert "containers" not in strategic_merge_patch(POD_SPEC, {"containers": None})


def test_merge_patch_replaces_lists_and_deletes_on_null() -> None:
    result = merge_patch(POD_SPEC, {"containers": [{"name": "x"}], "nodeName": "n"})
    assert result == {"containers": [{"name": "x"}], "nodeName": "n"}
    assert merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None}}) == {"a": {"c": 2}}


def test_json_patch_operations_and_failures() -> None:
    doc = {"metadata": {"annotations": {"a/b": "1"}}, "items": [1, 2]}
    ops = [
        {"op": "replace", "path": "/metadata/annotations/a~1b", "value": "2"},
        {"op": "add", "path": "/items/-", "value": 3},
        {"op": "remove", "path": "/items/0"},
        {"op": "test", "path": "/items", "value": [2, 3]},
    ]
    assert json_patch(doc, ops) == {"metadata": {"annotations": {"a/b": "2"}}, "items": [2, 3]}
    assert doc["items"] == [1, 2]  # the input is not modified
    with pytest.raises(KubernetesError) as err:
        json_patch(doc, [{"op": "replace", "path": "/spec/replicas", "value": 1}])
    assert err.value.status == 422
    with pytest.raises(KubernetesError):
        json_patch(doc, [{"op": "test", "path": "/items", "value": []}])


def test_label_selector_grammar_errors_are_bad_requests() -> None:
    with pytest.raises(KubernetesError) as err:
        parse_label_selector("app in (a,b")
    assert err.value.status == 400
    assert parse_label_selector("gen>2")({"metadata": {"labels": {"gen": "3"}}})
    assert not parse_label_selector("gen<2")({"metadata": {"labels": {"gen": "x"}}})


def test_field_selector_on_missing_and_boolean_fields() -> None:
    node = {"metadata": {"name": "n"}, "spec": {}}
    assert parse_field_selector("spec.unschedulable!=true", "Node")(node)
    assert parse_field_selector("spec.unschedulable=true", "Node")({**node, "spec": {"unschedulable": True}})
    with pytest.raises(KubernetesError):
        parse_field_selector("status.phase=Running", "Node")
