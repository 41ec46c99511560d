"""The README's Recordings examples are recordings: a manifest alone, then with its metrics file."""

from __future__ import annotations

import re
from pathlib import Path

from evals.recordings.metrics import read_metrics
from evals.recordings.replay import check_recording
from evals.replayable import load_replayable

README = Path(__file__).resolve().parents[3] / "README.md"


def _examples() -> tuple[str, str]:
    text = README.read_text()
    section = text[text.index("## Recordings") :]
    section = section[: section.index("\n## ", 1)]
    manifest, metrics = re.findall(r"```(?:yaml)?\n(.*?)```", section, flags=re.DOTALL)
    return manifest, metrics


def test_the_readme_examples_replay(tmp_path: Path) -> None:
    manifest, metrics = _examples()
    folder = tmp_path / "checkout-errors"
    folder.mkdir()
    (folder / "manifest.yaml").write_text(manifest)
    case = load_replayable(folder)
    assert case.kind == "recording" and case.expect is not None

    (folder / "metrics").mkdir()
    (folder / "metrics" / "http.om").write_text(metrics)
    recording = check_recording(folder)
    assert read_metrics(recording.files("metrics"), recording.manifest.as_of).samples == 2
