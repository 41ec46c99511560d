"""A recording as the sandbox serves it (`evals.sandbox.contents.Contents`): its objects and pod logs in
the Kubernetes emulator, its metrics backfilled into a fresh TSDB, its spans where the `otlp-file`
trace backend reads them. Nothing later than the manifest's as_of is served (see `.metrics`,
`.spans`, `.kube`), whatever the files hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from evals.recordings.kube import read_kube
from evals.recordings.metrics import RecordedMetrics, read_metrics, write_windows
from evals.recordings.parts import Recording, load_recording
from evals.recordings.spans import copy_spans
from evals.sandbox.kube.state import KubeState
from evals.sandbox.openmetrics import WindowFile
from evals.sandbox.prometheus import BackfillStats, backfill_windows

# Any instant query returns this one sample: the probe of a recording without metrics.
_ALWAYS = "vector(1)"


class RecordedContents:
    what = "recording"

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self._kube: KubeState | None = None
        self._latest: tuple[str, datetime] | None = None

    @property
    def namespace(self) -> str:
        return self.recording.manifest.namespace

    @property
    def as_of(self) -> datetime:
        return self.recording.manifest.as_of.astimezone(UTC)

    def load(self) -> dict[str, float]:
        clock = time.perf_counter()
        self._kube = read_kube(self.recording)
        return {"read_kube_s": time.perf_counter() - clock}

    def kube_state(self) -> dict[str, object]:
        assert self._kube is not None, "load() first"
        return self._kube.model_dump(mode="json")

    def backfill(
        self, work_dir: Path, tsdb_dir: Path, promtool: str, meanwhile: Callable[[], None]
    ) -> BackfillStats:
        def write(submit: Callable[[WindowFile], None]) -> list[WindowFile]:
            metrics = read_metrics(self.recording.files("metrics"), self.as_of)
            self._note(metrics)
            return write_windows(metrics, work_dir, submit)

        return backfill_windows(write, work_dir, tsdb_dir, promtool, meanwhile)

    def _note(self, metrics: RecordedMetrics) -> None:
        if metrics.latest_ms is not None:
            at = datetime.fromtimestamp(metrics.latest_ms / 1000, UTC)
            self._latest = (f'count({{__name__="{metrics.latest_name}"}})', at)

    def write_traces(self, traces_dir: Path) -> None:
        copy_spans(self.recording.files("spans"), self.as_of, traces_dir)

    def probe(self) -> tuple[str, datetime]:
        """Data at the newest sample kept, which may be well before as_of (a recording's metrics can end
        earlier, or be sparse): an instant query at as_of could find nothing within the lookback."""
        return self._latest or (_ALWAYS, self.as_of)


def check_recording(folder: str | Path) -> Recording:
    """Read every part of the recording as a replay would, starting nothing and writing nothing: the
    first problem is raised as the one `RecordingError` a replay would raise (for importers, the
    recorder, and anyone who wants to know before bringing a sandbox up)."""
    recording = load_recording(folder)
    read_kube(recording)
    read_metrics(recording.files("metrics"), recording.manifest.as_of)
    copy_spans(recording.files("spans"), recording.manifest.as_of, None)
    return recording
