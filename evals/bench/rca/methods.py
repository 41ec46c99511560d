"""The methods the benchmark runs on a case window, each answering with a ranked list of entities.

- `medic-given` / `medic-found`: `tools.anomaly.incident_rank.rank_incident`, the ranking the agent's
  tool calls, with `DEFAULT_RANK_CONFIG`: the onset given (the injection, as papers evaluate) or
  searched at or before `latest` (as the tool runs, knowing only when the alert fired), with the
  window's fault-free `reference` where the data set has one. Below its threshold it reports nothing.
- `baro`: BARO on the raw metric columns, given the injection (`baro_peer.py`); it always answers.
- `traversal`: the PetShop paper's anomaly-traversal baseline (`traversal.py`), told the SLO.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from evals.bench.rca.baro_peer import baro_rank
from evals.bench.rca.case_model import CaseWindow
from evals.bench.rca.traversal import traversal_rank
from tools.anomaly.incident_rank import rank_incident
from tools.anomaly.rank import DEFAULT_RANK_CONFIG, Ranking

SHOWN = 5


@dataclass(frozen=True)
class Answer:
    """`ranked` is what the method reports (empty: nothing); `order` its full order even then, and
    `why` a short account of the top candidate, both for reading the misses."""

    ranked: list[str]
    order: list[str]
    onset: float | None = None
    why: list[str] = field(default_factory=list)


def medic_ranking(window: CaseWindow, given: bool) -> Ranking:
    onset = window.injected if given else None
    return rank_incident(
        window.matrix,
        window.calls,
        window.latest,
        DEFAULT_RANK_CONFIG,
        onset=onset,
        reference=window.reference,
    )


def _why(ranking: Ranking) -> list[str]:
    lines = []
    for candidate in ranking.candidates[:3]:
        best = candidate.evidence[0] if candidate.evidence else None
        signal = (
            f"{best.source}:{best.signal}{' ' + best.detail[:60] if best.detail else ''}" if best else "-"
        )
        explained = f" <{candidate.explained_by}" if candidate.explained_by else ""
        lines.append(f"{candidate.entity} {candidate.score:.1f} ({signal}){explained}")
    return lines


def medic(given: bool) -> Callable[[CaseWindow], Answer]:
    def run(window: CaseWindow) -> Answer:
        ranking = medic_ranking(window, given)
        order = ranking.entities
        return Answer(order if ranking.anomalous else [], order, ranking.onset, _why(ranking))

    return run


def baro(window: CaseWindow) -> Answer:
    order = baro_rank(window.raw, window.injected)
    return Answer(order, order, window.injected)


def traversal(window: CaseWindow) -> Answer:
    if window.traversal is None:
        return Answer([], [])
    order = traversal_rank(window.traversal)
    return Answer(order, order)


METHODS: dict[str, Callable[[CaseWindow], Answer]] = {
    "medic-given": medic(given=True),
    "medic-found": medic(given=False),
    "baro": baro,
    "traversal": traversal,
}
# Methods that can say "nothing is wrong": the ones specificity is measured for.
CAN_BE_QUIET = frozenset({"medic-given", "medic-found", "traversal"})
FORMAT_METHODS: dict[str, tuple[str, ...]] = {
    "sockshop": ("medic-given", "medic-found", "baro"),
    "petshop": ("medic-given", "medic-found", "traversal", "baro"),
    "nezha": ("medic-given", "medic-found", "baro"),
}


def choose(format_name: str, asked: str | None) -> list[str]:
    """The methods to run: `asked` (comma-separated; `medic` = both onset modes) or the format's all."""
    available = FORMAT_METHODS[format_name]
    if not asked:
        return list(available)
    chosen: list[str] = []
    for name in (part.strip() for part in asked.split(",") if part.strip()):
        expanded = ["medic-given", "medic-found"] if name == "medic" else [name]
        for method in expanded:
            if method not in available:
                raise ValueError(
                    f"method {method!r} does not apply to --format {format_name}; available: medic, "
                    + ", ".join(available)
                )
            if method not in chosen:
                chosen.append(method)
    return chosen
