"""The benchmark's arithmetic: AC@k / Avg@5 on fault cases, specificity on healthy windows.

AC@k (PetShop's recall@k, Nezha's service-level AS@k: the same count) is the share of cases whose
true cause is in a method's top k; Avg@5 is the mean of AC@1..AC@5. An answer that reports nothing
(medic's ranking below its threshold, the traversal finding no anomalous target) is a miss, as in the
PetShop protocol. Specificity is the share of healthy windows on which a method reports nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel

TOP_K = 5


class Accuracy(BaseModel):
    n: int
    ac_at_1: float
    ac_at_3: float
    avg_at_5: float


class Specificity(BaseModel):
    n: int
    quiet: float  # share of windows where the method reported nothing


def position_of(cause: str, ranked: Sequence[str]) -> int | None:
    """1-based position of `cause` in `ranked`; None when it is not there (or nothing was reported)."""
    return ranked.index(cause) + 1 if cause in ranked else None


def accuracy(positions: Sequence[int | None]) -> Accuracy:
    """AC@1, AC@3 and Avg@5 from the position of the true cause in each case (None = a miss)."""
    n = len(positions)

    def ac(k: int) -> float:
        return sum(p is not None and p <= k for p in positions) / n if n else 0.0

    return Accuracy(
        n=n, ac_at_1=ac(1), ac_at_3=ac(3), avg_at_5=sum(ac(k) for k in range(1, TOP_K + 1)) / TOP_K
    )


def specificity(reported: Sequence[bool]) -> Specificity:
    """The share of healthy windows on which nothing was reported."""
    n = len(reported)
    return Specificity(n=n, quiet=sum(not r for r in reported) / n if n else 0.0)


def scopes(fault: str, groups: Mapping[str, str]) -> list[str]:
    """The table rows a case counts in: all, its fault type, and each of its other groups."""
    return ["all", f"fault={fault}", *(f"{name}={value}" for name, value in sorted(groups.items()))]


def by_scope(items: Iterable[tuple[list[str], int | None]]) -> dict[str, Accuracy]:
    """Accuracy per scope from (scopes, position) pairs, scopes in first-seen order."""
    grouped: dict[str, list[int | None]] = {}
    for names, position in items:
        for name in names:
            grouped.setdefault(name, []).append(position)
    return {name: accuracy(grouped[name]) for name in sorted(grouped, key=_scope_order)}


def quiet_by_scope(items: Iterable[tuple[list[str], bool]]) -> dict[str, Specificity]:
    grouped: dict[str, list[bool]] = {}
    for names, reported in items:
        for name in names:
            grouped.setdefault(name, []).append(reported)
    return {name: specificity(grouped[name]) for name in sorted(grouped, key=_scope_order)}


def _scope_order(name: str) -> tuple[int, str]:
    """all, then the fault types, then the other breakdowns, each alphabetically."""
    return (0 if name == "all" else 1 if name.startswith("fault=") else 2, name)
