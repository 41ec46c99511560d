"""A recording on disk: its manifest and the files of its optional parts (README: Recordings).

`load_recording` reads the manifest and checks the layout: every file in a part's folder must be one
that part reads, so a misnamed file (`metrics/app.prom`, `logs/web.txt`) is an error instead of data
silently left out of the replay. The parts' contents are checked as the replay reads them, in one pass
(`evals.recordings.metrics`, `.spans`, `.kube`); each problem is one `RecordingError` naming the
file, the line or item, and the field.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from evals.recordings.manifest import (
    MANIFEST,
    PARTS,
    Manifest,
    RecordingError,
    load_manifest,
    log_files,
)

# What each part's folder holds, and how its files are named.
SUFFIXES = {"metrics": ".om", "spans": ".jsonl", "kube": ".json", "logs": ".log"}
_WHAT = {
    "metrics": "OpenMetrics text files named *.om",
    "spans": "OTLP JSON lines files named *.jsonl",
    "kube": "Kubernetes objects as JSON files named *.json",
    "logs": "pod logs named <pod>.log or <pod>.previous.log",
}


@dataclass(frozen=True)
class Recording:
    """A recording's folder and its validated manifest; the parts are read when replayed."""

    folder: Path
    manifest: Manifest

    def files(self, part: str) -> list[Path]:
        """The files of one part (`metrics`, `spans`, `kube`), sorted; [] when the part is absent."""
        found = (self.folder / part).glob(f"*{SUFFIXES[part]}")
        return sorted(path for path in found if not path.name.startswith("."))

    def logs(self) -> dict[tuple[str, bool], Path]:
        """(pod, previous) → its log file."""
        return log_files(self.folder) if (self.folder / "logs").is_dir() else {}

    def digest(self) -> str:
        """Changes when the manifest or any part file changes (name, size or modification time), so a
        sandbox brought up from an older state of the folder is not mistaken for this one."""
        h = hashlib.sha256((self.folder / MANIFEST).read_bytes())
        for part in PARTS:
            for path in sorted((self.folder / part).glob("*")) if (self.folder / part).is_dir() else []:
                stat = path.stat()
                h.update(f"{part}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        return h.hexdigest()[:16]


def load_recording(folder: str | Path) -> Recording:
    """The manifest (validated) and the layout of the part folders (checked); raises `RecordingError`."""
    folder = Path(folder)
    manifest = load_manifest(folder)
    for part in PARTS:
        where = folder / part
        if where.exists() and not where.is_dir():
            raise RecordingError(f"{where}: {part} is a folder of {_WHAT[part]}")
        for path in sorted(where.iterdir()) if where.is_dir() else []:
            if path.name.startswith("."):
                continue  # editors' and file managers' litter, never data
            if not path.is_file() or path.suffix != SUFFIXES[part]:
                raise RecordingError(
                    f"{path}: {part}/ holds only {_WHAT[part]} (see the README's Recordings)"
                )
    recording = Recording(folder=folder, manifest=manifest)
    recording.logs()  # names are checked here, before anything is replayed
    return recording
