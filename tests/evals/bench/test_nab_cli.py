"""`medic bench nab --split/--choose` reject what they cannot do, with a message naming the fix, before
any data is read (the data folder here does not even exist)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.bench.nab.run import main
from evals.bench.nab.split import Half
from server.cli import app
from server.cli_bench import NabHalf


def _medic(tmp_path: Path, *argv: str) -> tuple[int, str]:
    missing = str(tmp_path / "no-nab-here")
    result = CliRunner().invoke(
        app, ["bench", "nab", "--data", missing, *argv], prog_name="medic", terminal_width=200
    )
    unboxed = re.sub("[│╭╮╰╯─]", " ", result.output)  # rich draws the error in a box and wraps its lines
    return result.exit_code, " ".join(unboxed.split())


def test_an_unknown_half_is_refused_with_the_choices(tmp_path: Path) -> None:
    code, output = _medic(tmp_path, "--split", "validation")
    assert code == 2
    assert "'validation' is not one of 'tune', 'held-out', 'all'" in output


def test_choose_with_a_split_is_refused(tmp_path: Path) -> None:
    code, output = _medic(tmp_path, "--choose", "--split", "held-out")
    assert code == 2
    assert "--choose reports every half itself: leave --split out" in output


def test_the_module_entry_point_refuses_the_same(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--split", "test"], ["--choose", "--split", "tune"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["--data", str(tmp_path), *argv])
        assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'test' (choose from 'tune', 'held-out', 'all')" in err
    assert "--choose reports every half itself" in err


def test_the_cli_spells_the_halves_as_the_split_does() -> None:
    assert [h.value for h in NabHalf] == [h.value for h in Half]
