"""BARO (Pham et al., FSE'24) from the `rcaeval` package, run on the same cases as medic's ranking.

BARO ranks *metric columns*; the benchmark scores services, so a service takes the rank of its best
column (its first appearance in BARO's list). `dataset="sock-shop"` selects RCAEval's generic
preprocessing (drop the time column and constant columns, memory in MB), as its own evaluation does.
"""

from __future__ import annotations

from collections.abc import Callable

from evals.bench.rca.cases import RcaCase

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


def services_from_columns(ranked_columns: list[str]) -> list[str]:
    """Service order from a column order: each service at the position of its best column."""
    services: list[str] = []
    for column in ranked_columns:
        service = column.split("_", 1)[0]
        if service not in services:
            services.append(service)
    return services


def baro_rank_services(case: RcaCase) -> list[str]:
    """Services of `case`, most likely root cause first, according to BARO."""
    import pandas as pd

    baro = _load_baro()
    frame = pd.DataFrame(case.values, columns=list(case.columns))
    frame.insert(0, "time", case.times)
    result = baro(frame, inject_time=case.fault_time, dataset="sock-shop")
    return services_from_columns(list(result["ranks"]))
