"""How alike two incident signatures are: a weighted Jaccard over feature groups.

    similarity(a, b) = Σ_g w_g · |a_g ∩ b_g| / |a_g ∪ b_g|  /  Σ_g w_g      over groups g where a_g ∪ b_g ≠ ∅

with weights services 0.35, symptoms 0.25, fault kind 0.25, changes 0.15: where it happened counts
most, then how it looked and what it was called, then what had just changed. A group neither side
has (no rollout in either, no fault kind yet) says nothing either way, so it is left out and the
weights of the rest renormalised. Two incidents that share no affected service (within the same
namespace) are not similar at all, whatever else they share: "errors went up after a rollout"
happens everywhere, and a memory is only worth recalling about the same services.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from tools.memory.model import IncidentSignature

WEIGHTS: dict[str, float] = {"services": 0.35, "symptoms": 0.25, "fault_kind": 0.25, "changes": 0.15}
MIN_SIMILARITY = 0.45  # below this a past incident is not worth a reader's attention


class Match(BaseModel):
    """A similarity and the features both signatures share (what a reader checks it on)."""

    model_config = ConfigDict(frozen=True)

    score: float
    shared: list[str]


def jaccard(a: set[str], b: set[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def similarity(a: IncidentSignature, b: IncidentSignature) -> Match:
    fa, fb = a.features(), b.features()
    if not fa["services"] & fb["services"]:
        return Match(score=0.0, shared=[])
    total = weight = 0.0
    shared: list[str] = []
    for group, w in WEIGHTS.items():
        if not fa[group] | fb[group]:
            continue
        total += w * jaccard(fa[group], fb[group])
        weight += w
        shared += sorted(fa[group] & fb[group])
    return Match(score=round(total / weight, 3) if weight else 0.0, shared=shared)
