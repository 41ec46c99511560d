"""`medic bench rca`: the table and JSON on tiny data sets, and one clear error per wrong invocation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.bench.rca.run import main
from evals.bench.rca.speed import time_ranking
from server.cli import app
from tests.evals.bench.rca_fixtures import write_petshop, write_sockshop


@pytest.fixture(scope="module")
def sockshop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sockshop(tmp_path_factory.mktemp("sockshop"))


@pytest.fixture(scope="module")
def petshop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_petshop(tmp_path_factory.mktemp("petshop"), healthy_rows=200)


def test_json_has_scores_per_scope_specificity_and_every_answer(
    sockshop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(sockshop), "--methods", "medic-given,baro", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "sockshop" and report["sources"] == ["metrics"]
    assert set(report["methods"]) == {"medic-given", "baro"}
    medic = report["methods"]["medic-given"]
    assert list(medic["accuracy"]) == ["all", "fault=cpu", "fault=mem"]
    assert medic["accuracy"]["all"] == {"n": 2, "ac_at_1": 1.0, "ac_at_3": 1.0, "avg_at_5": 1.0}
    assert medic["specificity"]["all"]["n"] == 2
    assert report["methods"]["baro"]["specificity"] is None  # BARO always answers: no specificity
    answers = {(c["case"], c["method"]): c for c in report["cases"]}
    assert answers[("web-cpu/1", "medic-given")]["position"] == 1
    assert answers[("web-cpu/1", "medic-given")]["onset_offset_s"] == 0.0


def test_the_table_has_both_onset_modes_and_the_traversal_beside_them(
    petshop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["--data", str(petshop), "--format", "petshop", "--methods", "medic,traversal", "--limit", "2"])
        == 0
    )
    table = capsys.readouterr().out
    for row in ("medic-given  all", "medic-found  all", "traversal    all", "fault=latency", "scenario=low"):
        assert row in table
    assert (
        "AC@1" in table and "spec" in table and "ranking speed" not in table
    )  # no speed lines in a quick run


def test_limit_takes_the_first_cases_and_healthy_windows(
    sockshop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(sockshop), "--methods", "medic-given", "--limit", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [c["case"] for c in report["cases"]] == ["store-mem/1"]
    assert report["methods"]["medic-given"]["specificity"]["all"]["n"] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "sockshop"], r"<service>-<cpu|mem>/<run>/{normal,anomalous}.csv"),
        (["--format", "petshop"], "<scenario>/graph.csv"),
        (["--format", "nezha"], "rca_data/<day>/<day>-fault_list.json"),
        (["--format", "zipkin"], "unknown --format 'zipkin'; expected one of sockshop, petshop, nezha"),
        (["--methods", "traversal"], "method 'traversal' does not apply to --format sockshop"),
        (["--sources", "metrics,pcap"], "unknown source 'pcap'; expected some of metrics, traces, logs"),
        (["--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_a_wrong_invocation_is_one_clear_error(
    tmp_path: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(tmp_path / "missing"), *argv]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and "Traceback" not in error


def test_an_existing_folder_in_another_layout_names_the_expected_one(
    sockshop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(sockshop), "--format", "petshop"]) == 2
    assert "no PetShop scenario" in capsys.readouterr().err


def test_medic_cli_passes_the_options_through(sockshop: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "rca",
            "--data",
            str(sockshop),
            "--format",
            "sockshop",
            "--methods",
            "medic-given",
            "--limit",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["methods"]["medic-given"]["accuracy"]["all"]["n"] == 1


def test_the_speed_measure_times_a_ranking_and_leaves_the_number_to_the_report() -> None:
    """`medic bench rca` reports the time of a production-sized ranking (500 series over a day); a
    test on a loaded machine is no measure of it (1.1 s once under the suite's two workers, 0.1 s
    alone), so only the measure itself is checked here."""
    spent = time_ranking(n_series=50, n_points=240, repeats=2)
    assert 0.0 < spent < 60.0
