"""Anomalies explained by something else, on call graphs shaped like the public data: an X-Ray map
whose client-side view of a load balancer has no edge to the service behind it, a callee starved by
a failing caller, a callee flooded by one. Rows are 5-minute CloudWatch sums and averages."""

from __future__ import annotations

import numpy as np

from tools.anomaly.rank import Ranking, SeriesKey, SignalMatrix, rank_root_causes

STEP_S = 300.0
N_POINTS = 60  # five hours
ONSET_INDEX = 54
TIMES = np.asarray(1_681_850_000.0 + STEP_S * np.arange(N_POINTS), dtype=np.float64)
ONSET = float(TIMES[ONSET_INDEX])


class Entity:
    """One node's rows: latency (s), error ratio and requests per 5-minute row."""

    def __init__(self, rng: np.random.Generator, latency: float, requests: float) -> None:
        self.latency = latency * np.exp(rng.normal(0.0, 0.05, N_POINTS))
        self.errors = np.zeros(N_POINTS)
        self.requests = np.maximum(rng.normal(requests, requests * 0.03, N_POINTS), 0.0)

    def rows(self, name: str) -> dict[SeriesKey, np.ndarray]:
        return {
            SeriesKey(name, "latency_avg", "latency"): self.latency,
            SeriesKey(name, "error_ratio", "errors"): self.errors,
            SeriesKey(name, "requests", "traffic", noise="count"): self.requests,
        }


def rank(entities: dict[str, Entity], calls: dict[str, list[str]]) -> Ranking:
    rows = {k: v for name, e in entities.items() for k, v in e.rows(name).items()}
    matrix = SignalMatrix(times=TIMES, keys=list(rows), values=np.vstack(list(rows.values())))
    return rank_root_causes(matrix, ONSET, calls)


def by_name(ranking: Ranking, entity: str) -> tuple[float, str | None]:
    c = next(c for c in ranking.candidates if c.entity == entity)
    return c.score, c.explained_by


def test_a_client_side_view_without_an_edge_is_explained_by_the_failing_service_behind_it() -> None:
    rng = np.random.default_rng(1)
    site, search = Entity(rng, 0.45, 480), Entity(rng, 0.006, 800)
    view, db = Entity(rng, 0.03, 600), Entity(rng, 0.004, 900)
    search.errors[ONSET_INDEX:] = 0.03  # the service fails 3 % of its requests
    view.errors[ONSET_INDEX:] = 0.12  # the load balancer's client-side view sees them, concentrated
    view.latency[ONSET_INDEX:] *= 6
    site.errors[ONSET_INDEX:] = 0.025
    # as X-Ray draws it: the site calls the view and the service, the view leads nowhere
    calls = {"site": ["view", "search"], "search": ["db"]}
    ranking = rank({"site": site, "search": search, "view": view, "db": db}, calls)
    assert ranking.entities[0] == "search"
    assert by_name(ranking, "view")[1] == "search"
    assert by_name(ranking, "site")[1] == "search"
    assert by_name(ranking, "db")[0] < ranking.threshold


def test_a_callee_starved_by_its_failing_caller_is_explained_by_the_caller() -> None:
    rng = np.random.default_rng(2)
    front, orders, payments = Entity(rng, 0.2, 6000), Entity(rng, 0.1, 3000), Entity(rng, 0.05, 3000)
    orders.errors[ONSET_INDEX:] = 0.05  # orders fails before it calls payments ...
    front.errors[ONSET_INDEX:] = 0.025
    payments.requests[ONSET_INDEX:] *= 0.05  # ... so payments hardly gets a request
    ranking = rank(
        {"front": front, "orders": orders, "payments": payments},
        {"front": ["orders"], "orders": ["payments"]},
    )
    assert ranking.entities[0] == "orders"
    score, explained_by = by_name(ranking, "payments")
    assert explained_by == "orders" and score < ranking.candidates[0].score


def test_a_slower_callee_flooded_by_a_failing_caller_does_not_take_the_blame_for_its_errors() -> None:
    # the failing service calls an object store on its error path: the store's traffic jumps from
    # nothing and its latency rises, but it returns no errors
    rng = np.random.default_rng(3)
    site, search, store = Entity(rng, 0.45, 480), Entity(rng, 0.006, 800), Entity(rng, 0.12, 40)
    search.errors[ONSET_INDEX:] = 0.03
    site.errors[ONSET_INDEX:] = 0.025
    store.requests[:ONSET_INDEX] = np.where(np.arange(ONSET_INDEX) % 12 == 0, 40.0, 0.0)  # an hourly job
    store.latency[ONSET_INDEX:] *= 8
    ranking = rank(
        {"site": site, "search": search, "store": store}, {"site": ["search"], "search": ["store"]}
    )
    assert ranking.entities[0] == "search", [(c.entity, round(c.score, 1)) for c in ranking.candidates]
    assert by_name(ranking, "site")[1] == "search"


def test_a_database_flooded_from_elsewhere_stays_the_cause_of_its_callers_slowness_and_errors() -> None:
    rng = np.random.default_rng(4)
    search, table = Entity(rng, 0.006, 800), Entity(rng, 0.004, 2000)
    table.requests[ONSET_INDEX:] *= 5  # a load test hits the table directly: throttled, slow
    table.latency[ONSET_INDEX:] *= 4
    table.errors[ONSET_INDEX:] = 0.04
    search.latency[ONSET_INDEX:] *= 2.5
    search.errors[ONSET_INDEX:] = 0.03
    ranking = rank({"search": search, "table": table}, {"search": ["table"]})
    assert ranking.entities[0] == "table"
    assert by_name(ranking, "search")[1] == "table"


def test_a_callers_timeouts_are_explained_by_the_slowdown_behind_them() -> None:
    # the service slows down ×20; the front load balancer's client-side view times out on half of
    # its calls (errors, no edge to the service): the slowdown is the stronger anomaly and explains them
    rng = np.random.default_rng(5)
    site, search, view = Entity(rng, 0.45, 480), Entity(rng, 0.006, 800), Entity(rng, 0.03, 600)
    table = Entity(rng, 0.004, 900)
    search.latency[ONSET_INDEX:] *= 20
    view.errors[ONSET_INDEX:] = 0.05
    site.latency[ONSET_INDEX:] *= 1.5
    calls = {"site": ["view", "search"], "search": ["table"]}
    ranking = rank({"site": site, "search": search, "view": view, "table": table}, calls)
    assert ranking.entities[0] == "search"
    assert by_name(ranking, "view")[1] == "search"
