"""NAB's fixed split by file: half of the data files to choose the detector's configuration ("tune"),
the other half to report it ("held-out").

The rule, which reads only file names (never data, labels or scores):

1. Group the files by their category folder (`realKnownCause/`, `artificialNoAnomaly/`, ...).
2. Within a category, order the files by the SHA-256 of their path relative to `data/` (e.g.
   `realKnownCause/nyc_taxi.csv`), ties by the path itself; the first half goes to tune, the second
   half to held-out, so each half has files of every category.
3. A category with an odd number of files has one file left over (the last in that order); going
   through the categories in alphabetical order, it goes to the half that is smaller so far, held-out
   when they are equal, so the two halves differ by at most one file.

On NAB v1.1's 58 files this gives 29 and 29. The rule is fixed before any score is seen: no salt, no
seed, nothing to try again.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from enum import StrEnum

from evals.bench.nab.corpus import DataFile


class Half(StrEnum):
    """Which files a run reads: one half of the split, or all of them (NAB's own protocol)."""

    TUNE = "tune"
    HELD_OUT = "held-out"
    ALL = "all"


def category(name: str) -> str:
    """The NAB category folder of a data file's relative path."""
    return name.split("/", 1)[0]


def _order_key(name: str) -> tuple[str, str]:
    return hashlib.sha256(name.encode("utf-8")).hexdigest(), name


def split_names(names: Iterable[str]) -> dict[Half, list[str]]:
    """{TUNE: [...], HELD_OUT: [...]}, each sorted by name; see the module docstring for the rule."""
    by_category: dict[str, list[str]] = defaultdict(list)
    for name in set(names):
        by_category[category(name)].append(name)
    tune: list[str] = []
    held_out: list[str] = []
    for folder in sorted(by_category):
        ordered = sorted(by_category[folder], key=_order_key)
        half = len(ordered) // 2
        tune += ordered[:half]
        held_out += ordered[half : 2 * half]
        if len(ordered) % 2:
            (tune if len(tune) < len(held_out) else held_out).append(ordered[-1])
    return {Half.TUNE: sorted(tune), Half.HELD_OUT: sorted(held_out)}


def select(files: Sequence[DataFile], half: Half) -> list[DataFile]:
    """The files of one half (all of them for `Half.ALL`), in their original order."""
    if half is Half.ALL:
        return list(files)
    chosen = set(split_names(f.name for f in files)[half])
    return [f for f in files if f.name in chosen]
