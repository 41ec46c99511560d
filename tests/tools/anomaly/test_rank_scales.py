"""Scales that collapse: idle entities, steady client-side views, all-zero baselines and ratios whose
denominator collapses, on small slices shaped like the public incident data (1-minute rows of an idle
pod next to a busy one; log-template counts; error ratios of a few requests)."""

from __future__ import annotations

import numpy as np

from tools.anomaly.rank import SeriesKey, SignalMatrix, rank_root_causes
from tools.anomaly.signals import cpu_per_request, metric_key

STEP_S = 60.0
N_POINTS = 120  # two hours of 1-minute rows
ONSET_INDEX = 100
TIMES = np.asarray(1_674_981_660.0 + STEP_S * np.arange(N_POINTS), dtype=np.float64)
ONSET = float(TIMES[ONSET_INDEX])
RNG = np.random.default_rng(29)


def lognormal(median: float, spread: float) -> np.ndarray:
    return np.asarray(median * np.exp(RNG.normal(0.0, spread, N_POINTS)), dtype=np.float64)


def matrix(rows: dict[SeriesKey, np.ndarray]) -> SignalMatrix:
    return SignalMatrix(times=TIMES, keys=list(rows), values=np.vstack(list(rows.values())))


def test_an_idle_pods_millisecond_to_second_jump_does_not_beat_a_real_latency_fault() -> None:
    # the idle pod answers 0-2 requests a minute at ~5 ms (0 = no request, no latency); after onset
    # two requests take 3 s. The busy service (40 req/s) really slows down ×4.
    idle_requests = RNG.choice([0.0, 0.0, 1 / 60, 2 / 60], N_POINTS)
    idle_latency = np.where(idle_requests > 0, lognormal(0.005, 0.05), 0.0)
    idle_requests[ONSET_INDEX + 5 : ONSET_INDEX + 8] = 2 / 60
    idle_latency[ONSET_INDEX + 5 : ONSET_INDEX + 8] = 3.0
    busy_latency = lognormal(0.12, 0.08)
    busy_latency[ONSET_INDEX:] *= 4
    ranking = rank_root_causes(
        matrix(
            {
                SeriesKey("idle", "latency_p99"): idle_latency,
                SeriesKey("idle", "request_rate"): idle_requests,
                SeriesKey("busy", "latency_p99"): busy_latency,
                SeriesKey("busy", "request_rate"): RNG.normal(40.0, 2.0, N_POINTS),
            }
        ),
        ONSET,
    )
    assert ranking.entities[0] == "busy" and ranking.anomalous
    idle = next(c for c in ranking.candidates if c.entity == "idle")
    assert idle.score < ranking.threshold  # two requests are a few sigmas, not 10⁵


def test_a_steady_client_side_view_scores_its_jump_as_a_ratio_not_in_hundreds() -> None:
    # a load balancer seen from its client: 30 ms ± 0.1 %, then ×30 (its calls time out)
    view = lognormal(0.03, 0.001)
    view[ONSET_INDEX:] *= 30
    ranking = rank_root_causes(matrix({SeriesKey("lb_client", "latency_p90"): view}), ONSET)
    top = ranking.candidates[0]
    assert ranking.anomalous and top.score < 100  # ln 30 / ln 1.05 ≈ 70 sigmas (580 in a linear view)
    assert abs(top.evidence[0].baseline_median - 0.03) < 0.001  # shown in seconds, not in log space


def test_log_template_counts_from_zero_score_by_how_many_lines_not_one_fixed_value() -> None:
    # counts per minute of three templates never seen before onset: a stray line, a burst of 15 and
    # a burst of 60 (an exception storm); all-zero baselines must neither tie nor flag the stray line
    counts = {name: np.zeros(N_POINTS) for name in ("stray", "burst", "storm")}
    counts["stray"][ONSET_INDEX + 3 : ONSET_INDEX + 5] = 1.0
    counts["burst"][ONSET_INDEX:] = 15.0
    counts["storm"][ONSET_INDEX:] = 60.0
    rows = {
        SeriesKey(name, "log_template", "errors", source="logs", detail=f"{name} template", noise="count"): v
        for name, v in counts.items()
    }
    ranking = rank_root_causes(matrix(rows), ONSET)
    scores = {c.entity: c.score for c in ranking.candidates}
    assert ranking.entities == ["storm", "burst", "stray"]
    assert scores["storm"] > 2 * scores["burst"] > 2 * ranking.threshold
    assert scores["stray"] < ranking.threshold / 2


def test_two_failed_requests_out_of_two_weigh_like_two_failures_not_like_a_full_outage() -> None:
    # a nearly idle client-side view (2 requests per 5-minute row) fails both; the service behind
    # it fails 3 % of its 800 requests: 24 failures. Counts per row, as CloudWatch sums give them.
    rows = {
        SeriesKey("view", "error_ratio"): np.zeros(N_POINTS),
        SeriesKey("view", "requests", "traffic", noise="count"): np.full(N_POINTS, 2.0),
        SeriesKey("service", "error_ratio"): np.abs(RNG.normal(0.0, 0.0005, N_POINTS)),
        SeriesKey("service", "requests", "traffic", noise="count"): RNG.normal(800.0, 20.0, N_POINTS),
    }
    values = dict(rows)
    values[SeriesKey("view", "error_ratio")][ONSET_INDEX:] = 1.0
    values[SeriesKey("service", "error_ratio")][ONSET_INDEX:] += 0.03
    ranking = rank_root_causes(matrix(values), ONSET)
    assert ranking.entities[0] == "service"
    assert next(c for c in ranking.candidates if c.entity == "view").score <= 2.0


def test_cpu_per_request_does_not_soar_when_traffic_stops() -> None:
    # the caller goes down at onset: requests fall to a trickle, CPU to its idle level
    rate = RNG.normal(20.0, 1.0, N_POINTS)
    cpu = 0.05 + 0.01 * rate + RNG.normal(0.0, 0.005, N_POINTS)
    rate[ONSET_INDEX:] = 0.2
    cpu[ONSET_INDEX:] = 0.05 + RNG.normal(0.0, 0.005, N_POINTS - ONSET_INDEX)
    per_request = cpu_per_request(cpu, rate)
    key = SeriesKey("callee", "cpu_per_request", "resource", rises_only=True)
    ranking = rank_root_causes(matrix({key: per_request}), ONSET)
    assert not ranking.anomalous, ranking.candidates[0].evidence[0]


def test_cpu_per_request_still_shows_a_cpu_hog_while_traffic_falls() -> None:
    rate = RNG.normal(20.0, 1.0, N_POINTS)
    cpu = 0.05 + 0.01 * rate + RNG.normal(0.0, 0.005, N_POINTS)
    rate[ONSET_INDEX:] = 10.0
    cpu[ONSET_INDEX:] = 0.9  # a hog: CPU triples while traffic halves
    ranking = rank_root_causes(
        matrix(
            {SeriesKey("hog", "cpu_per_request", "resource", rises_only=True): cpu_per_request(cpu, rate)}
        ),
        ONSET,
    )
    assert ranking.anomalous and ranking.entities == ["hog"]


def test_a_healthy_window_of_real_shaped_noise_says_nothing() -> None:
    # heavy-tailed latency, sparse error ratios, Poisson template counts and gauges: nothing happened
    rows: dict[SeriesKey, np.ndarray] = {}
    for i in range(8):
        service = f"svc-{i}"
        rows[SeriesKey(service, "latency_p99")] = lognormal(0.05 * (i + 1), 0.25)
        rows[SeriesKey(service, "error_ratio")] = np.where(RNG.random(N_POINTS) < 0.03, 0.002, 0.0)
        rows[SeriesKey(service, "request_rate")] = RNG.normal(10.0 * (i + 1), 1.0, N_POINTS)
        rows[SeriesKey(service, "memory_vs_limit", noise="ratio")] = 0.4 + RNG.normal(0.0, 0.005, N_POINTS)
        rows[SeriesKey(service, "errors_logged", "errors", source="logs", noise="count")] = RNG.poisson(
            0.3, N_POINTS
        ).astype(np.float64)
    # a nearly idle pod: a request every few minutes at ~5 ms; two single requests wait a second
    idle_requests = np.where(RNG.random(N_POINTS) < 0.3, 1 / 60, 0.0)
    idle_latency = np.where(idle_requests > 0, lognormal(0.005, 0.1), 0.0)
    idle_latency[[ONSET_INDEX + 4, ONSET_INDEX + 5]] = 1.2
    idle_requests[[ONSET_INDEX + 4, ONSET_INDEX + 5]] = 1 / 60
    rows[SeriesKey("idle", "latency_p99")] = idle_latency
    rows[SeriesKey("idle", "request_rate")] = idle_requests
    ranking = rank_root_causes(matrix(rows), ONSET)
    assert not ranking.anomalous, [(c.entity, c.evidence[0].signal, c.score) for c in ranking.candidates[:3]]


def test_a_p99_over_fewer_requests_than_it_needs_is_one_slow_request_not_a_slow_service() -> None:
    # a shared callee serves about one request a second; its p99 gauge sits on its histogram's first
    # bucket (5 ms, no spread at all) and the last minute's p99 is 460 ms: over 60 requests that is the
    # slowest single call. The same jump over 1200 requests a minute (12 beyond the p99), held three
    # minutes, is the service slowing down.
    def callee(name: str, per_s: float, slow_points: int) -> dict[SeriesKey, np.ndarray]:
        latency = np.full(N_POINTS, 0.0049)
        latency[N_POINTS - slow_points :] = 0.46
        return {
            metric_key(name, "latency_p99", "latency"): latency,
            metric_key(name, "request_rate", "traffic"): RNG.normal(per_s, per_s / 10, N_POINTS),
        }

    onset = float(TIMES[N_POINTS - 3])
    quiet = rank_root_causes(matrix(callee("quiet", 1.0, 1)), onset)
    busy = rank_root_causes(matrix(callee("busy", 20.0, 3)), onset)
    assert metric_key("quiet", "latency_p99", "latency").quantile == 0.99
    assert not quiet.anomalous and quiet.candidates[0].score < quiet.threshold / 2
    assert busy.anomalous and busy.candidates[0].score > 2 * busy.threshold
