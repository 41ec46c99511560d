"""Root-cause ranking on synthetic incidents whose cause is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from tools.anomaly.baseline import NoiseFloors, fit_baseline, row_quantiles
from tools.anomaly.rank import RankConfig, SeriesKey, SignalMatrix, infer_kind, rank_root_causes

STEP_S = 15.0
N_POINTS = 480  # 2 hours at 15 s
ONSET_INDEX = 400
TIMES = np.asarray(1_700_000_000.0 + STEP_S * np.arange(N_POINTS), dtype=np.float64)
ONSET = float(TIMES[ONSET_INDEX])

# gateway -> checkout -> payments-db; gateway -> search
CALLS = {"gateway": ["checkout", "search"], "checkout": ["payments-db"]}


def healthy(seed: int) -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return {
        entity: {
            "cpu": rng.normal(0.4, 0.03, N_POINTS),
            "mem": rng.normal(300e6, 2e6, N_POINTS),
            "latency_p99": rng.gamma(20.0, 0.005, N_POINTS),
            "error_ratio": np.abs(rng.normal(0.0, 0.001, N_POINTS)),
        }
        for entity in ("gateway", "checkout", "search", "payments-db")
    }


def test_the_entity_with_an_injected_cpu_fault_ranks_first_with_its_evidence() -> None:
    series = healthy(1)
    series["search"]["cpu"][ONSET_INDEX + 5 :] += 0.5
    ranking = rank_root_causes(SignalMatrix.from_entities(TIMES, series), onset=ONSET, calls=CALLS)

    top = ranking.candidates[0]
    assert ranking.anomalous
    assert top.entity == "search"
    assert top.evidence[0].signal == "cpu" and top.evidence[0].kind == "resource"
    assert top.evidence[0].sigmas > 10
    assert top.evidence[0].started_at == pytest.approx(TIMES[ONSET_INDEX + 5])
    assert all(c.score < ranking.threshold for c in ranking.candidates[1:])


def test_a_caller_with_only_propagated_latency_ranks_below_its_failing_callee() -> None:
    series = healthy(2)
    # payments-db slows down ×16; its latency rises less than the callers', which add their own queueing.
    series["payments-db"]["latency_p99"][ONSET_INDEX:] += 1.5
    series["checkout"]["latency_p99"][ONSET_INDEX:] += 2.0
    series["gateway"]["latency_p99"][ONSET_INDEX:] += 2.5
    matrix = SignalMatrix.from_entities(TIMES, series)

    ranking = rank_root_causes(matrix, onset=ONSET, calls=CALLS)
    assert ranking.entities[:3] == ["payments-db", "checkout", "gateway"]
    by_name = {c.entity: c for c in ranking.candidates}
    assert by_name["gateway"].explained_by == "payments-db" or by_name["gateway"].explained_by == "checkout"
    assert by_name["checkout"].explained_by == "payments-db"
    assert by_name["gateway"].raw_score > by_name["payments-db"].raw_score  # demotion did the work

    without_graph = rank_root_causes(matrix, onset=ONSET)
    assert without_graph.entities[0] == "gateway"


def test_a_caller_well_below_its_failing_callee_is_still_explained_by_it() -> None:
    series = healthy(9)
    # payments-db's latency jumps far more than the callers': their scores never needed capping
    series["payments-db"]["latency_p99"][ONSET_INDEX:] += 2.0
    series["checkout"]["latency_p99"][ONSET_INDEX:] += 0.5
    series["gateway"]["latency_p99"][ONSET_INDEX:] += 0.3
    ranking = rank_root_causes(SignalMatrix.from_entities(TIMES, series), onset=ONSET, calls=CALLS)
    by_name = {c.entity: c for c in ranking.candidates}
    assert ranking.entities[0] == "payments-db"
    assert by_name["checkout"].score == by_name["checkout"].raw_score  # not lowered ...
    assert by_name["checkout"].explained_by == "payments-db"  # ... and still a symptom
    assert by_name["gateway"].explained_by == "payments-db"
    assert by_name["search"].explained_by is None


def test_each_signal_keeps_its_baseline_peak_and_current_value() -> None:
    series = healthy(10)
    series["checkout"]["latency_p99"][ONSET_INDEX:] += 0.5
    series["checkout"]["latency_p99"][-1] = 0.42  # the last point, after the peak
    ranking = rank_root_causes(SignalMatrix.from_entities(TIMES, series), onset=ONSET, calls=CALLS)
    latency = ranking.candidates[0].evidence[0]
    assert latency.signal == "latency_p99"
    assert latency.baseline_median == pytest.approx(0.1, abs=0.01)
    assert latency.peak_value == pytest.approx(0.6, abs=0.1)
    assert latency.current_value == pytest.approx(0.42)


def test_a_caller_with_its_own_resource_anomaly_is_not_demoted() -> None:
    series = healthy(3)
    series["payments-db"]["latency_p99"][ONSET_INDEX:] += 0.4
    series["gateway"]["latency_p99"][ONSET_INDEX:] += 1.0
    series["gateway"]["cpu"][ONSET_INDEX:] += 2.0  # gateway burns cpu: a local fault of its own
    ranking = rank_root_causes(SignalMatrix.from_entities(TIMES, series), onset=ONSET, calls=CALLS)
    assert ranking.entities[0] == "gateway"
    assert ranking.candidates[0].explained_by is None


def test_a_constant_baseline_gives_finite_scores_and_a_bounded_jump() -> None:
    series = healthy(4)
    series["search"]["restarts"] = np.zeros(N_POINTS)
    series["checkout"]["restarts"] = np.zeros(N_POINTS)
    series["checkout"]["restarts"][ONSET_INDEX + 10 :] = 3.0
    series["gateway"]["queue_depth"] = np.full(N_POINTS, 7.0)  # flat, non-zero, never moves
    with np.errstate(all="raise"):
        ranking = rank_root_causes(SignalMatrix.from_entities(TIMES, series), onset=ONSET, calls=CALLS)

    scores = [c.score for c in ranking.candidates] + [
        e.sigmas for c in ranking.candidates for e in c.evidence
    ]
    assert np.all(np.isfinite(scores))
    assert ranking.entities[0] == "checkout"
    # A departure from a perfectly flat zero line is large but bounded by the relative floor.
    assert ranking.candidates[0].score <= 1 / RankConfig().floors.relative_share + 1
    gateway = next(c for c in ranking.candidates if c.entity == "gateway")
    assert gateway.score < ranking.threshold


def test_of_two_anomalies_scored_alike_the_one_that_began_first_leads() -> None:
    series = healthy(4)
    for entity, began in (("checkout", ONSET_INDEX + 12), ("search", ONSET_INDEX + 4)):
        series[entity]["restarts"] = np.zeros(N_POINTS)
        series[entity]["restarts"][began:] = 3.0  # from a flat zero line: both at the bound
    ranking = rank_root_causes(SignalMatrix.from_entities(TIMES, series), onset=ONSET)

    first, second = ranking.candidates[:2]
    assert (first.score, first.raw_score) == (second.score, second.raw_score)
    assert [first.entity, second.entity] == ["search", "checkout"], "not by name: by when it began"


def test_nothing_anomalous_gives_a_low_top_score() -> None:
    ranking = rank_root_causes(SignalMatrix.from_entities(TIMES, healthy(5)), onset=ONSET, calls=CALLS)
    assert not ranking.anomalous
    assert ranking.candidates[0].score < ranking.threshold / 2


def test_a_burst_shorter_than_the_minimum_duration_is_not_an_incident() -> None:
    series = healthy(6)
    series["search"]["cpu"][ONSET_INDEX + 20 : ONSET_INDEX + 22] += 5.0  # two scrapes, 30 s
    ranking = rank_root_causes(SignalMatrix.from_entities(TIMES, series), onset=ONSET, calls=CALLS)
    assert not ranking.anomalous


def test_missing_points_and_a_short_baseline_are_tolerated() -> None:
    series = healthy(7)
    series["checkout"]["mem"][ONSET_INDEX:] += 150e6
    series["gateway"]["cpu"][::7] = np.nan
    series["search"]["cpu"][: ONSET_INDEX - 3] = np.nan  # only 3 baseline points: cannot be judged
    series["search"]["cpu"][ONSET_INDEX:] = 50.0
    ranking = rank_root_causes(SignalMatrix.from_entities(TIMES, series), onset=ONSET, calls=CALLS)
    assert ranking.entities[0] == "checkout"
    search = next(c for c in ranking.candidates if c.entity == "search")
    assert all(e.signal != "cpu" or e.score == 0 for e in search.evidence)


def test_cycles_in_the_call_graph_terminate() -> None:
    series = healthy(8)
    series["checkout"]["latency_p99"][ONSET_INDEX:] += 1.0
    cyclic = {"gateway": ["checkout"], "checkout": ["gateway"]}
    ranking = rank_root_causes(SignalMatrix.from_entities(TIMES, series), onset=ONSET, calls=cyclic)
    assert ranking.entities[0] == "checkout"


def test_signal_matrix_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        SignalMatrix(times=TIMES, keys=[SeriesKey("a", "cpu")], values=np.zeros((2, N_POINTS)))


def test_kinds_are_inferred_from_common_metric_names() -> None:
    assert [
        infer_kind(n) for n in ("cpu", "mem", "lat_90", "error_ratio", "request_rate", "queue_depth")
    ] == [
        "resource",
        "resource",
        "latency",
        "errors",
        "traffic",
        "other",
    ]


def test_row_quantiles_with_gaps_match_numpy() -> None:
    rng = np.random.default_rng(9)
    values = rng.normal(size=(20, 101))
    values[rng.random(values.shape) < 0.2] = np.nan
    expected = np.nanpercentile(values, [25, 50, 75], axis=1)
    np.testing.assert_allclose(row_quantiles(values, (0.25, 0.5, 0.75)), expected)


def test_a_page_granular_gauge_does_not_look_anomalous_for_a_one_percent_move() -> None:
    # memory moving by whole 4 KiB pages: IQR of one page, then +0.5 % of its level
    pages = np.random.default_rng(10).integers(0, 2, 300)
    baseline = np.asarray(267_423_744.0 + 4096.0 * pages, dtype=np.float64)[None, :]
    fitted = fit_baseline(baseline, level=np.array([270e6]), floors=NoiseFloors(relative_share=0.01))
    assert (0.005 * 267_423_744.0) / fitted.scale[0] < 1.0


def test_a_fault_that_shows_a_minute_before_its_given_onset_is_not_its_own_baseline() -> None:
    """An injection's or an alert's recorded time is known to about a minute: a fault whose first
    minute came before it must not become the baseline's usual burst (20 min of baseline: the peak
    it reaches for a minute is taken as its nature). The baseline ends a minute before the onset."""
    times, onset_index = TIMES[:100], 80
    values = np.random.default_rng(7).normal(0.4, 0.02, 100)
    values[onset_index - 4 :] += 0.5  # the fault shows 60 s before its recorded onset
    signals = SignalMatrix.from_entities(times, {"search": {"cpu": values}})
    onset = float(times[onset_index])

    given = rank_root_causes(signals, onset=onset)
    assert given.anomalous and given.entities == ["search"], given.candidates
    exact = rank_root_causes(signals, onset=onset, config=RankConfig(onset_margin_s=0.0))
    assert not exact.anomalous, exact.candidates  # the fault's first minute read as the usual burst
