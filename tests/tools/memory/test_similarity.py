"""The similarity of incident signatures: a weighted Jaccard, gated on a shared service."""

from __future__ import annotations

import pytest

from tools.memory.model import IncidentSignature
from tools.memory.similarity import MIN_SIMILARITY, WEIGHTS, jaccard, similarity

DEPLOY = IncidentSignature(
    namespace="shop",
    services=["frontend", "checkout"],
    symptoms=["checkout:errors:up", "frontend:errors:up"],
    fault_kind="bad_deploy",
    changes=["rollout:checkout"],
)


def test_the_same_signature_is_fully_similar_and_says_what_it_shares() -> None:
    match = similarity(DEPLOY, DEPLOY)
    assert match.score == 1.0
    assert "shop/checkout" in match.shared and "bad_deploy" in match.shared


def test_no_shared_service_means_not_similar_whatever_else_is_shared() -> None:
    elsewhere = DEPLOY.model_copy(update={"services": ["orders"], "symptoms": ["orders:errors:up"]})
    assert similarity(DEPLOY, elsewhere).score == 0.0


def test_the_same_service_names_in_another_namespace_are_other_services() -> None:
    other_cluster = DEPLOY.model_copy(update={"namespace": "sock-shop"})
    assert similarity(DEPLOY, other_cluster).score == 0.0


def test_score_is_the_weighted_jaccard_over_the_groups_either_side_has() -> None:
    # services 1/2 shared, symptoms 1/3, kind differs, no change on either side: changes is left out
    a = IncidentSignature(
        namespace="n", services=["a", "b"], symptoms=["a:errors:up", "b:latency:up"], fault_kind="bad_deploy"
    )
    b = IncidentSignature(namespace="n", services=["a"], symptoms=["a:errors:up"], fault_kind="crashloop")
    expected = (WEIGHTS["services"] * 0.5 + WEIGHTS["symptoms"] * 0.5 + WEIGHTS["fault_kind"] * 0.0) / (
        WEIGHTS["services"] + WEIGHTS["symptoms"] + WEIGHTS["fault_kind"]
    )
    assert similarity(a, b).score == pytest.approx(expected, abs=1e-3)
    assert jaccard(set(), set()) == 0.0


def test_a_different_fault_on_the_same_service_falls_below_the_bar() -> None:
    leak = IncidentSignature(
        namespace="shop", services=["checkout"], symptoms=["checkout:latency:up"], fault_kind="memory_leak"
    )
    assert similarity(DEPLOY, leak).score < MIN_SIMILARITY
    assert similarity(DEPLOY, leak).score > 0  # it shares a service: gated in, scored low


def test_the_symptom_direction_matters() -> None:
    down = DEPLOY.model_copy(update={"symptoms": ["checkout:errors:down", "frontend:errors:down"]})
    assert similarity(DEPLOY, down).score < similarity(DEPLOY, DEPLOY).score
