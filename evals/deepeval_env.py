"""deepeval's environment, kept offline: set before deepeval is imported (it reads it once, at import).

Left alone, `import deepeval` turns on telemetry (PostHog), may ask the package index for a newer
version, loads `.env` files and a legacy key file from the working directory into `os.environ`, and
creates a `.deepeval` folder in the working directory; with a Confident AI key it uploads traces.
`offline_environment()` turns all of that off or points it at a temporary folder, whatever the
caller's environment says: an eval run must not reach the network or write into the repository, and
no variable may switch that back on. This module imports nothing heavy, so that the test suite's
conftest can apply it before any test module imports deepeval (evals.metrics applies it too).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# deepeval's own state (cache, results, identity) goes here instead of `./.deepeval` and `~/.deepeval`.
STATE_DIR = Path(tempfile.gettempdir()) / "medic-deepeval"


def offline_environment() -> dict[str, str]:
    """The variables to set; Confident AI's (CONFIDENT_*) must be unset as well."""
    return {
        "DEEPEVAL_TELEMETRY_OPT_OUT": "YES",  # set even if the caller said NO
        "DEEPEVAL_UPDATE_WARNING_OPT_IN": "0",  # "1" makes `import deepeval` ask the package index for news
        "DEEPEVAL_DISABLE_DOTENV": "1",
        "DEEPEVAL_DISABLE_LEGACY_KEYFILE": "1",
        "DEEPEVAL_GRPC_LOGGING": "0",
        "DEEPEVAL_CACHE_FOLDER": str(STATE_DIR / "cache"),
        "DEEPEVAL_RESULTS_FOLDER": str(STATE_DIR / "results"),
        "DEEPEVAL_HOME": str(STATE_DIR / "home"),
    }


def keep_deepeval_offline() -> None:
    """Apply `offline_environment()` to this process (idempotent)."""
    os.environ.update(offline_environment())
    for name in [n for n in os.environ if n.startswith("CONFIDENT_")]:
        del os.environ[name]
