"""The rules planner's evidence: a secondary hypothesis only with evidence of its own, log excerpts read
and cited when a rollout or a crash is suspected, and reasons given in units rather than sigmas."""

from __future__ import annotations

from datetime import timedelta

from pydantic import JsonValue

from agent.planners import RulesPlanner
from agent.planners.rules import diagnose
from agent.state import PlannerView, Step
from tests.agent.rank_views import ONSET, quiet, rank_view, step, stepped
from tools.anomaly.tools import iso

PODS = {f"orders-7d9f-{i}": "orders" for i in "abc"}
CRASH = "2026-01-01T10:00:00Z ERROR unhandled exception in /api/orders: NullPointerException (release 2.4.1)"


def _one_failing_pod(*extra: Step) -> PlannerView:
    """One pod of `orders` fails every request; `orders` as a whole shows a third of its requests failing."""
    return rank_view(
        {
            "pod/orders-7d9f-a": {"pod_error_ratio": stepped(0.001, 0.001, 0.99, 1)},
            "pod/orders-7d9f-b": {"pod_error_ratio": quiet(0.001, 0.001, 2)},
            "pod/orders-7d9f-c": {"pod_error_ratio": quiet(0.001, 0.001, 3)},
            "orders": {"error_ratio": stepped(0.001, 0.001, 0.33, 4)},
        },
        {},
        pod_service=PODS,
        services=["orders"],
        extra=[
            step("kube_pods", {"pods": [{"name": p} for p in PODS]}, namespace="shop", workload="orders"),
            *extra,
        ],
    )


def test_a_second_hypothesis_with_nothing_but_the_ranking_is_dropped_and_says_why() -> None:
    diagnosis = diagnose(_one_failing_pod())
    assert [(h.entity, h.fault_kind) for h in diagnosis.hypotheses] == [("pod/orders-7d9f-a", "pod_failure")]
    assert diagnosis.dropped == ["orders (bad_deploy): nothing beyond the anomaly ranking supports it"]


def test_a_second_hypothesis_with_evidence_of_its_own_stays_and_cites_it() -> None:
    logs = step(
        "pod_logs",
        {"lines": [CRASH]},
        ["logs:pod_logs:orders-7d9f-b:1"],
        namespace="shop",
        pod="orders-7d9f-b",
    )
    diagnosis = diagnose(_one_failing_pod(logs))
    second = diagnosis.hypotheses[1]
    assert (second.entity, second.fault_kind) == ("orders", "bad_deploy")
    assert "logs:pod_logs:orders-7d9f-b:1" in second.evidence
    assert f'log: "{CRASH}"' in second.summary


def test_every_reason_is_given_in_units_and_no_hypothesis_cites_evidence_that_does_not_hold() -> None:
    top = diagnose(_one_failing_pod()).hypotheses[0]
    assert "pod error ratio 0." in top.summary and "% → 99 %" in top.summary
    assert "σ" not in top.summary
    assert top.evidence == ["anomaly:rank:pod/orders-7d9f-a:test"]


def _checkout(
    pods: list[dict[str, JsonValue]], revisions: list[dict[str, JsonValue]], *extra: Step
) -> PlannerView:
    return rank_view(
        {"checkout": {"error_ratio": stepped(0.001, 0.001, 0.3, 1)}},
        {},
        services=["checkout"],
        extra=[
            step(
                "kube_workload",
                {"revisions": revisions},
                ["kube:rollout:checkout:1"],
                namespace="shop",
                name="checkout",
            ),
            step("kube_pods", {"pods": list(pods)}, namespace="shop", workload="checkout"),
            *extra,
        ],
    )


def _running(name: str, restarts: int = 0) -> dict[str, JsonValue]:
    return {"name": name, "containers": [{"restart_count": restarts, "state": "running"}]}


def _revision(n: int, replicaset: str, became: timedelta) -> dict[str, JsonValue]:
    return {"revision": n, "replicaset": replicaset, "became_current": iso(ONSET + became.total_seconds())}


def test_a_rollout_right_before_the_onset_has_the_new_releases_log_read() -> None:
    revisions = [
        _revision(1, "checkout-5d8c", -timedelta(days=3)),
        _revision(2, "checkout-9f7b", -timedelta(minutes=1)),
    ]
    view = _checkout([_running("checkout-5d8c-old"), _running("checkout-9f7b-new")], revisions)
    plan = RulesPlanner().plan(view)
    assert [(c.tool, c.args["pod"], c.args["previous"]) for c in plan.calls] == [
        ("pod_logs", "checkout-9f7b-new", False)
    ]


def test_a_restarted_pod_has_its_crashed_containers_log_read_and_no_rollout_no_log() -> None:
    old = [_revision(1, "checkout-5d8c", -timedelta(days=3))]
    crashed = RulesPlanner().plan(
        _checkout([_running("checkout-5d8c-a"), _running("checkout-5d8c-b", 4)], old)
    )
    assert [(c.args["pod"], c.args["previous"]) for c in crashed.calls] == [("checkout-5d8c-b", True)]
    quiet_rollout = RulesPlanner().plan(_checkout([_running("checkout-5d8c-a")], old))
    assert quiet_rollout.done and not quiet_rollout.calls


def test_the_excerpt_that_names_the_release_is_cited_over_generic_error_lines() -> None:
    revisions = [_revision(2, "checkout-9f7b", -timedelta(minutes=1))]
    generic = "2026-01-01T10:00:01Z ERROR request completed method=GET status=500"
    logs = step(
        "pod_logs",
        {"lines": [CRASH.replace("orders", "checkout"), generic]},
        ["logs:pod_logs:checkout-9f7b-new:1"],
        round_no=3,
        namespace="shop",
        pod="checkout-9f7b-new",
    )
    top = diagnose(_checkout([_running("checkout-9f7b-new")], revisions, logs)).hypotheses[0]
    unread = diagnose(_checkout([_running("checkout-9f7b-new")], revisions)).hypotheses[0]
    assert top.fault_kind == unread.fault_kind == "bad_deploy"
    assert top.confidence > unread.confidence  # the crash naming the release corroborates the rollout
    assert "logs:pod_logs:checkout-9f7b-new:1" in top.evidence and "kube:rollout:checkout:1" in top.evidence
    assert 'log: "2026-01-01T10:00:00Z ERROR unhandled exception in /api/checkout' in top.summary
    assert "a new revision became current 1 min before the onset" in top.summary
