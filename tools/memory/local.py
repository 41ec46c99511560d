"""A memory of past incidents in a local folder, for triage outside the service (the CLI, evals).

One JSON file per incident (a `PastIncident`), written whole through a temporary file and a rename so
a reader never sees half of one. The service keeps its memory in its own store instead
(`server.store.memory`); both answer `IncidentMemory`.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from tools.memory.model import PastFeedback, PastIncident

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FolderMemory:
    """Past incidents as `<folder>/<id>.json`; the folder is created on the first write."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, incident_id: str) -> Path:
        # an id is text from the world: keep it readable but never a path, and never two ids one file
        digest = hashlib.sha256(incident_id.encode()).hexdigest()[:8]
        return self.folder / f"{_UNSAFE.sub('_', incident_id)[:80]}-{digest}.json"

    def remember(self, incident: PastIncident) -> None:
        """Keep `incident` (replacing an older record of the same id, feedback included)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(incident.incident_id)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(incident.model_dump_json(indent=1), encoding="utf-8")
        tmp.replace(path)

    def get(self, incident_id: str) -> PastIncident | None:
        path = self._path(incident_id)
        if not path.is_file():
            return None
        return PastIncident.model_validate_json(path.read_text(encoding="utf-8"))

    def add_feedback(self, incident_id: str, feedback: PastFeedback) -> None:
        """Add a responder's feedback to a remembered incident; KeyError when it is not remembered."""
        found = self.get(incident_id)
        if found is None:
            raise KeyError(f"incident {incident_id} is not in the memory at {self.folder}")
        self.remember(found.model_copy(update={"feedback": [*found.feedback, feedback]}))

    def past_incidents(self, *, until: datetime, limit: int) -> list[PastIncident]:
        found: list[PastIncident] = []
        for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                incident = PastIncident.model_validate_json(path.read_text(encoding="utf-8"))
            except (OSError, ValidationError):
                continue  # a file someone edited by hand is skipped, not fatal to an investigation
            if incident.at <= until:
                found.append(incident)
        found.sort(key=lambda i: i.at, reverse=True)
        return found[:limit]
