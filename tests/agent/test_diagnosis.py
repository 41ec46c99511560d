"""Whoever made the diagnosis (the rules, a model), a second hypothesis needs evidence of its own."""

from __future__ import annotations

from agent.diagnosis import Diagnosis, Hypothesis

RANK_FX, RANK_LEDGER = "anomaly:rank:fx:1a", "anomaly:rank:ledger:2b"
TRACE = "traces:edge:gateway-ledger:3c"


def _h(entity: str, *evidence: str) -> Hypothesis:
    return Hypothesis(
        entity=entity,
        service=entity,
        fault_kind="dependency_latency",
        confidence=0.5,
        label="LIKELY",
        summary=entity,
        evidence=list(evidence),
    )


def test_a_second_hypothesis_citing_only_the_ranking_is_dropped_the_first_is_not() -> None:
    made = Diagnosis(
        hypotheses=[_h("fx", RANK_FX), _h("ledger", RANK_LEDGER), _h("auth", RANK_LEDGER, TRACE)]
    )
    checked = made.checked_against({RANK_FX, RANK_LEDGER, TRACE})
    assert [h.entity for h in checked.hypotheses] == ["fx", "auth"]
    assert checked.dropped == ["ledger (dependency_latency): nothing beyond the anomaly ranking supports it"]
    assert checked.checked_against({RANK_FX, RANK_LEDGER, TRACE}) == checked  # checking twice changes nothing


def test_a_dropped_hypothesis_of_an_open_kind_is_named_in_words_not_none() -> None:
    open_kind = _h("ledger", RANK_LEDGER).model_copy(update={"fault_kind": None})
    checked = Diagnosis(hypotheses=[_h("fx", RANK_FX), open_kind]).checked_against({RANK_FX, RANK_LEDGER})
    assert checked.dropped == ["ledger (unknown fault): nothing beyond the anomaly ranking supports it"]
