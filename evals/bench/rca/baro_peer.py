"""BARO (Pham et al., FSE'24) from the `rcaeval` package, run on the same cases as medic's ranking.

BARO ranks *metric columns*; the benchmark scores entities (services, nodes), so an entity takes the
rank of its best column (its first appearance in BARO's list). It reads a case's raw metric columns
(`CaseWindow.raw`), never trace or log rows. `dataset="sock-shop"` selects RCAEval's generic
preprocessing (drop the time column and constant columns, memory in MB), as its own evaluation does.
Missing values (PetShop's empty cells, Nezha's blanked windows) are carried forward, then 0, as
RCAEval does for its trace series; Sock Shop has none, so its columns reach BARO unchanged. A window
with no point before the injection (PetShop's scenarios without healthy data) gets no answer.
"""

from __future__ import annotations

from collections.abc import Callable

from tools.anomaly.rank import SignalMatrix

INSTALL_HINT = (
    "BARO comes from the rcaeval package, installed without its pinned dependency list:\n"
    "  .venv/bin/pip install --no-deps 'rcaeval>=1.8.1'\n"
    "  .venv/bin/pip install 'pandas>=2.2' 'scikit-learn>=1.4' 'requests>=2.31' 'tqdm>=4.66'"
    " 'matplotlib>=3.8' 'networkx>=3.2' 'causal-learn>=0.1.3.8'"
)


def _load_baro() -> Callable[..., dict[str, list[str]]]:
    try:
        from RCAEval.e2e.baro import baro
    except ImportError as exc:  # the message says how to install; no silent skip
        raise RuntimeError(f"cannot import RCAEval.e2e.baro ({exc}).\n{INSTALL_HINT}") from exc
    return baro


def entities_from_columns(ranked_columns: list[str], entity_of: dict[str, str]) -> list[str]:
    """Entity order from a column order: each entity at the position of its best column."""
    return list(dict.fromkeys(entity_of[column] for column in ranked_columns))


def baro_rank(raw: SignalMatrix, injected: float) -> list[str]:
    """Entities of the raw columns, most likely root cause first, according to BARO."""
    import numpy as np
    import pandas as pd

    baro = _load_baro()
    if not (raw.times < injected).any() or not (raw.times >= injected).any():
        return []  # no point before (or after) the injection: BARO has nothing to compare
    names = [f"{k.entity}_{k.signal}" for k in raw.keys]
    entity_of = {name: key.entity for name, key in zip(names, raw.keys, strict=True)}
    frame = pd.DataFrame(raw.values.T, columns=names)
    if np.isnan(raw.values).any():
        frame = frame.ffill().fillna(0.0)
    frame.insert(0, "time", raw.times)
    result = baro(frame, inject_time=injected, dataset="sock-shop")
    return entities_from_columns(list(result["ranks"]), entity_of)
