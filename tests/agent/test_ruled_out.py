""" "Ruled out" names only what really depends on the cause, for every kind of cause: a service, one
pod of a service, a node, an external dependency. The views come from a real ranking of synthetic
signals, so a caller's explanation is the ranking's own, not a hand-written field."""

from __future__ import annotations

import re

from agent.planners.findings import Findings, candidates_from_rank
from agent.planners.ruled_out import ruled_out
from agent.state import PlannerView
from tests.agent.rank_views import quiet, rank_view, step, stepped


def _cause(view: PlannerView, entity: str) -> Findings:
    return next(f for f in candidates_from_rank(view) if f.entity == entity)


def _assert_only_real_dependencies(notes: list[str], cause: str) -> None:
    assert notes, "the symptoms of the cause are listed"
    for note in notes:
        assert "None" not in note, note
        assert not note.startswith(f"{cause} "), f"the cause rules itself out: {note}"


def test_a_failing_service_rules_out_its_callers_even_those_well_below_it() -> None:
    # gateway's errors are a third of checkout's: the ranking never had to lower its score
    view = rank_view(
        {
            "gateway": {"error_ratio": stepped(0.001, 0.001, 0.1, 1)},
            "checkout": {"error_ratio": stepped(0.001, 0.001, 0.3, 2)},
            "db": {"error_ratio": quiet(0.001, 0.001, 3)},
        },
        {"gateway": ["checkout"], "checkout": ["db"]},
    )
    notes = ruled_out(view, _cause(view, "checkout"))
    _assert_only_real_dependencies(notes, "checkout")
    assert len(notes) == 1 and re.fullmatch(
        r"gateway is anomalous too \(error ratio 0\.\d+ % → 10 %\), but only through its dependency checkout",
        notes[0],
    ), notes


def test_an_external_dependency_rules_out_the_whole_chain_of_callers() -> None:
    view = rank_view(
        {
            "gateway": {"latency_p99": stepped(0.2, 0.002, 0.8, 1)},
            "ledger": {
                "latency_p99": stepped(0.1, 0.002, 1.0, 2),
                "callers_latency_p99": stepped(0.1, 0.002, 1.0, 3),
            },
            "fx": {"callers_latency_p99": stepped(0.05, 0.002, 2.0, 4)},  # an external: only callers see it
        },
        {"gateway": ["ledger"], "ledger": ["fx"]},
    )
    notes = ruled_out(view, _cause(view, "fx"))
    _assert_only_real_dependencies(notes, "fx")
    assert [n.split(" is anomalous too")[0] for n in notes] == ["ledger", "gateway"]
    assert all(n.endswith("but only through its dependency fx") for n in notes)
    assert re.search(r"\(p99 latency 100 ms → 1\.1 s, ×11 its baseline\)", notes[0]), notes


def test_a_node_rules_out_the_services_on_it_and_never_itself_or_unrelated_ones() -> None:
    view = rank_view(
        {
            "node/n1": {"failed_pods": stepped(0, 0, 3, 1), "pressure": stepped(0, 0, 1, 2)},
            "cart": {"latency_p99": stepped(0.1, 0.002, 0.1, 3)},  # its pods run on n1
            "search": {"latency_p99": quiet(0.1, 0.002, 4)},  # elsewhere, and calm
        },
        {"cart": ["node/n1"], "search": ["node/n2"]},
    )
    node = candidates_from_rank(view)[0]
    assert node.entity == "node/n1" and node.service is None
    notes = ruled_out(view, node)
    _assert_only_real_dependencies(notes, "node/n1")
    assert len(notes) == 1 and re.fullmatch(
        r"cart is anomalous too \(p99 latency 100 ms → 2\d\d ms, ×2\.\d its baseline\), "
        r"but only because its pods run on node/n1",
        notes[0],
    ), notes


def test_a_failing_pod_rules_out_its_services_callers_and_a_service_wide_fault() -> None:
    pods = {f"orders-7d9f-{i}": "orders" for i in "abc"}
    view = rank_view(
        {
            "pod/orders-7d9f-a": {"pod_error_ratio": stepped(0.001, 0.001, 0.99, 1)},
            "pod/orders-7d9f-b": {"pod_error_ratio": quiet(0.001, 0.001, 2)},
            "pod/orders-7d9f-c": {"pod_error_ratio": quiet(0.001, 0.001, 3)},
            "orders": {"error_ratio": stepped(0.001, 0.001, 0.33, 4)},
            "web": {"error_ratio": stepped(0.001, 0.001, 0.2, 5)},
        },
        {"web": ["orders"]},
        pod_service=pods,
        extra=[step("kube_pods", {"pods": [{"name": p} for p in pods]}, namespace="shop", workload="orders")],
    )
    pod = candidates_from_rank(view)[0]
    assert (pod.entity, pod.entity_kind, pod.service) == ("pod/orders-7d9f-a", "pod", "orders")
    notes = ruled_out(view, pod)
    _assert_only_real_dependencies(notes, "pod/orders-7d9f-a")
    assert re.fullmatch(
        r"web is anomalous too \(error ratio 0\.\d+ % → 20 %\), but only through its dependency orders",
        notes[0],
    ), notes
    assert notes[1:] == [
        "the other 2 pods of orders serve without errors: not a fault of the whole service "
        "(a bad deploy, a failing dependency)",
    ]
