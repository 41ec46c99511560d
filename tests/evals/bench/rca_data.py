"""Where the Sock Shop RCA cases live for tests (read in place, never copied into the repo)."""

from __future__ import annotations

from pathlib import Path

SOCKSHOP_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "sockshop-rcd"


def sockshop_dir() -> Path:
    """The data set folder; fails (not skips) with where to get it when it is missing."""
    if not (SOCKSHOP_DIR / "carts-cpu" / "1" / "normal.csv").is_file():
        raise AssertionError(
            f"Sock Shop RCA cases not found at {SOCKSHOP_DIR}; put the azamikram/rcd sock-shop cases there "
            "(see ../shared/datasets/README.md, sockshop-rcd)"
        )
    return SOCKSHOP_DIR
