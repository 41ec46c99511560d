"""Writing one recording folder: into a hidden temporary folder first, then renamed into place, so an
import that fails half-way never leaves a recording that looks complete."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from evals.recordings.importers.common import DatasetError
from evals.recordings.manifest import Manifest, is_recording, write_manifest


def write_recording(dest: Path, recording_id: str, fill: Callable[[Path], Manifest]) -> Path:
    """`fill(folder)` writes the parts and returns the manifest, written last (the parts may tell it
    something, such as the calls the spans show). An existing recording of the same id is replaced
    (importing again gives the same folder); any other existing folder is an error."""
    folder = dest / recording_id
    if folder.exists() and not is_recording(folder):
        raise DatasetError(f"{folder}: exists and is not a recording; remove it or choose another DEST")
    work = dest / f".{recording_id}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        manifest = fill(work)
        if manifest.id != recording_id:
            raise DatasetError(f"{folder}: the manifest's id is {manifest.id!r}")
        write_manifest(work, manifest)
        if folder.exists():
            shutil.rmtree(folder)
        work.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def write_kube_list(path: Path, items: list[dict[str, object]]) -> None:
    """Objects as `kubectl get -o json` prints them: a v1 List."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"apiVersion": "v1", "kind": "List", "items": items}
    path.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", encoding="utf-8")
