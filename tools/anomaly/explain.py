"""Telling symptoms from causes on a call graph: which anomalous entity explains another's anomaly.

An entity's signals fall in four families: local (resource, other: stay with the entity), latency,
errors and traffic. How each travels:
- upward, to the callers: a callee's errors or a local fault of it explain its callers' errors, and
  so does its slowdown when it is at least as strong as their errors (timeouts); its latency, errors
  or local fault explain their latency and traffic. A caller's family explained by a dependency it
  reaches (directly or not) is capped just below the deepest such dependency; a family nothing below
  explains keeps its score (a service throwing errors while its object store is merely slower is
  still the suspect for the errors);
- downward: a callee starved (or flooded) by a failing caller sees only its traffic move. An entity
  whose only anomaly is its traffic, below an anomalous caller, is capped just below that caller;
- client-side views: a call graph built from what clients see (X-Ray's `*_remote`/`*_client` nodes,
  a load balancer's address) can hold a node with callers but no callees, standing for a service the
  graph also holds under another name. Such a leaf may stand for any non-leaf service its callers
  reach that does not reach it; those become its possible explainers, so it is not blamed when the
  service behind it is anomalous. The graph is used as given: no naming convention is assumed.

A local anomaly at or above the threshold is never explained away (an entity burning CPU is a
suspect whatever its callees do), and a traffic-only change never explains anyone (it is the effect
of someone's behaviour, not a fault of its own).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Family = Literal["latency", "errors", "traffic"]
FAMILIES: tuple[Family, ...] = ("latency", "errors", "traffic")


@dataclass
class EntityScores:
    """Per entity, its strongest signal of each family (robust sigmas)."""

    local: dict[str, float] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)
    errors: dict[str, float] = field(default_factory=dict)
    traffic: dict[str, float] = field(default_factory=dict)

    def of(self, family: Family, entity: str) -> float:
        table: dict[str, float] = getattr(self, family)
        return table.get(entity, 0.0)

    def raw(self, entity: str) -> float:
        return max(self.local.get(entity, 0.0), *(self.of(f, entity) for f in FAMILIES))


@dataclass(frozen=True)
class Explained:
    final: dict[str, float]
    explained_by: dict[str, str]


def _callers(calls: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for caller, callees in calls.items():
        for callee in callees:
            out.setdefault(callee, set()).add(caller)
    return out


def _closure(graph: Mapping[str, Sequence[str]] | Mapping[str, set[str]], start: str) -> set[str]:
    """Everything `start` reaches through `graph` (cycles tolerated), without `start` itself."""
    seen: set[str] = set()
    stack = list(graph.get(start, ()))
    while stack:
        node = stack.pop()
        if node not in seen and node != start:
            seen.add(node)
            stack.extend(graph.get(node, ()))
    return seen


def client_view_edges(calls: Mapping[str, Sequence[str]], entities: Sequence[str]) -> dict[str, list[str]]:
    """For each leaf (callers, no callees) of `calls`, the non-leaf services its callers reach that do
    not reach it back: what a client-side view may stand for."""
    callers = _callers(calls)
    known = set(entities)
    edges: dict[str, list[str]] = {}
    for leaf in sorted(e for e in known if e in callers and not calls.get(e)):
        behind = set().union(*(_closure(calls, c) for c in callers[leaf]))
        targets = sorted(e for e in behind if e in known and calls.get(e) and leaf not in _closure(calls, e))
        if targets:
            edges[leaf] = targets
    return edges


class _Settled:
    """Scores after capping, per family, as entities are settled callees first."""

    def __init__(self, scores: EntityScores, threshold: float) -> None:
        self.scores, self.threshold = scores, threshold
        self.final: dict[str, float] = {}
        self.capped: dict[tuple[Family, str], float] = {}
        self.explainer: dict[tuple[Family, str], str] = {}  # what explains one family of an entity
        self.explained_by: dict[str, str] = {}
        self.able: dict[Family, set[str]] = {f: set() for f in FAMILIES}  # settled, can_explain True

    def settled(self, entity: str) -> None:
        for family in FAMILIES:
            if self.can_explain(entity, family):
                self.able[family].add(entity)

    def can_explain(self, entity: str, family: Family) -> bool:
        """Whether the entity's own (capped) anomaly can explain a caller's anomaly of `family`."""
        local = self.scores.local.get(entity, 0.0)
        errors = self.capped.get(("errors", entity), 0.0)
        if family == "errors":
            return max(local, errors) >= self.threshold
        return max(local, errors, self.capped.get(("latency", entity), 0.0)) >= self.threshold

    def cause_apart_from(self, entity: str, others: set[str]) -> float:
        """The entity's strongest local, latency or errors score that none of `others` explains."""
        own = [
            self.capped.get((f, entity), 0.0)
            for f in ("latency", "errors")
            if self.explainer.get((f, entity)) not in others
        ]
        return max([self.scores.local.get(entity, 0.0), *own])


def explain(
    scores: EntityScores, calls: Mapping[str, Sequence[str]], threshold: float, cap: float
) -> Explained:
    """Final scores after capping symptoms below what explains them (`cap` = share of the explainer)."""
    entities = sorted(scores.local)
    virtual = client_view_edges(calls, entities)
    graph = {e: list(calls.get(e, ())) + virtual.get(e, []) for e in set(calls) | set(virtual)}
    state = _Settled(scores, threshold)
    reach: dict[str, set[str]] = {}
    real_reach: dict[str, set[str]] = {}
    on_stack: set[str] = set()

    def settle(entity: str) -> None:
        """Depth-first post-order (a back edge of a cycle is ignored): a chain A -> B -> C with C at
        fault caps B below C and then A below B."""
        on_stack.add(entity)
        below: set[str] = set()
        real_below: set[str] = set()
        for callee in graph.get(entity, ()):
            if callee in on_stack:
                continue
            if callee not in reach:
                settle(callee)
            below |= {callee} | reach[callee]
            if callee in calls.get(entity, ()):
                real_below |= {callee} | real_reach[callee]
        on_stack.discard(entity)
        reach[entity], real_reach[entity] = below, real_below
        local = scores.local.get(entity, 0.0)
        explainers: dict[Family, str] = {}
        for family in FAMILIES:
            own = scores.of(family, entity)
            able = [(state.final[d], d) for d in below & state.able[family]]
            if family == "errors":  # timeouts: a slowdown at least as strong as our errors
                able += [
                    (state.final[d], d)
                    for d in (below & state.able["latency"]) - state.able["errors"]
                    if state.capped.get(("latency", d), 0.0) >= own
                ]
            if able and own > local:
                _, explainer = max(able)
                # below the explainer and below every caller between it and us that it also explains
                chain = [s for s, d in able if explainer in (d, state.explained_by.get(d))]
                state.capped[(family, entity)] = min(own, cap * min(chain))
                state.explainer[(family, entity)] = explainers[family] = explainer
            else:
                state.capped[(family, entity)] = own
        state.final[entity] = max(local, *(state.capped[(f, entity)] for f in FAMILIES))
        state.settled(entity)
        strongest = max(FAMILIES, key=lambda f: scores.of(f, entity))
        chosen = explainers.get(strongest)
        # a symptom even when already below the cap, unless a local signal of its own is anomalous;
        # through a client-side view's possible services only when there is something to explain
        if (
            chosen is not None
            and local < threshold
            and all(f in explainers or scores.of(f, entity) < threshold for f in FAMILIES)
            and (chosen in real_below or scores.of(strongest, entity) >= threshold)
        ):
            state.explained_by[entity] = chosen

    for entity in sorted(set(entities) | set(graph)):
        if entity not in reach:
            settle(entity)
    _starved(state, calls, reach, cap)
    return Explained(final={e: state.final[e] for e in entities}, explained_by=state.explained_by)


def _starved(
    state: _Settled, calls: Mapping[str, Sequence[str]], reach: dict[str, set[str]], cap: float
) -> None:
    """Downward: an entity's traffic anomaly that nothing below explains falls below its strongest
    anomalous caller (direct or not), unless that caller's anomaly is itself explained by the entity
    (a database flooded from elsewhere slows its caller: the caller explains nothing)."""
    callers = _callers(calls)
    flooded = [
        e
        for e in state.scores.traffic
        if state.capped.get(("traffic", e), 0.0) >= state.threshold and ("traffic", e) not in state.explainer
    ]
    ancestors = {e: _closure(callers, e) for e in flooded}
    for entity in sorted(flooded, key=lambda e: len(ancestors[e])):  # callers first
        traffic = state.capped[("traffic", entity)]
        ours = {entity} | reach.get(entity, set())
        able = [(state.final[a], a) for a in ancestors[entity] if a in state.final]
        able = [(s, a) for s, a in able if state.cause_apart_from(a, ours) >= state.threshold]
        if not able:
            continue
        score, explainer = max(able)
        state.capped[("traffic", entity)] = min(traffic, cap * score)
        state.explainer[("traffic", entity)] = explainer
        scores = state.scores
        state.final[entity] = max(
            scores.local.get(entity, 0.0), *(state.capped[(f, entity)] for f in FAMILIES)
        )
        others = max(
            scores.local.get(entity, 0.0), *(state.capped[(f, entity)] for f in ("latency", "errors"))
        )
        if others < state.threshold and entity not in state.explained_by:
            state.explained_by[entity] = explainer
