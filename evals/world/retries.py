"""Clients with a timeout and retries (the scenario's `realism.client_timeout`, `retries`, `clients`).

One call attempt to a callee takes the callee's latency (log-normal around its median) and fails when
the callee answers 5xx, when the packet is lost for good, or when it takes longer than the caller's
timeout: then the caller gives up after the timeout while the callee still does the work and answers
200, late. A failed attempt is retried up to `retries` more times, so the callee receives more
requests than the caller sends calls (retries amplify), and the caller sees an error only when every
attempt failed. The client histograms count attempts, as OpenTelemetry's HTTP client metrics do; a
timed-out attempt is recorded as a 504.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evals.world.grid import normal_cdf
from evals.world.model import FloatArray

Parts = list[tuple[FloatArray, FloatArray]]  # (attempts/s, median ms), as in evals.world.load


@dataclass(frozen=True)
class ClientView:
    """What a caller with a client policy sees of one callee."""

    attempts_per_call: FloatArray  # 1 + retried attempts: the callee's amplification
    err: FloatArray  # share of calls failed after every attempt
    mean_ms: FloatArray  # what one call costs the caller, all attempts included
    timed_out: FloatArray  # share of attempts that hit the timeout
    parts: dict[str, Parts]  # attempts by status code: "200", "500", "504"


@dataclass(frozen=True)
class Answer:
    """The callee's side of one attempt, per sample: median duration, spread, share answered 5xx."""

    median_ms: FloatArray
    sigma: float
    err: FloatArray


def client_view(
    rate: FloatArray,
    answer: Answer,
    loss: FloatArray,
    timeout_ms: float | None,
    retries: int,
    retransmit_ms: float,
    lost_ms: float,
) -> ClientView:
    """`rate` calls/s sent by the caller; `loss` share of attempts lost (half retransmitted and slower,
    half lost for good, as in the plain model); `lost_ms` what a lost-for-good attempt costs without
    a timeout."""
    base, e = answer.median_ms, answer.err
    slow = answer.median_ms + retransmit_ms
    p_fast, p_slow = _beyond(base, answer.sigma, timeout_ms), _beyond(slow, answer.sigma, timeout_ms)
    cap = np.inf if timeout_ms is None else timeout_ms
    # Shares of attempts by outcome.
    ok_fast = (1.0 - loss) * (1.0 - p_fast) * (1.0 - e)
    ok_slow = loss / 2 * (1.0 - p_slow) * (1.0 - e)
    answered_5xx = ((1.0 - loss) * (1.0 - p_fast) + loss / 2 * (1.0 - p_slow)) * e
    timed_out = (1.0 - loss) * p_fast + loss / 2 * p_slow
    lost = loss / 2
    ok = ok_fast + ok_slow
    fail = np.clip(1.0 - ok, 0.0, 1.0)
    attempts = np.sum([fail**k for k in range(retries + 1)], axis=0)
    final = fail ** (retries + 1)
    lost_cost = lost_ms if timeout_ms is None else timeout_ms
    with np.errstate(divide="ignore", invalid="ignore"):
        ok_cost = np.where(
            ok > 0, (ok_fast * np.minimum(base, cap) + ok_slow * np.minimum(slow, cap)) / ok, base
        )
        timeout_cost = 0.0 if timeout_ms is None else timeout_ms
        fail_cost = np.where(
            fail > 0, (answered_5xx * base + timed_out * timeout_cost + lost * lost_cost) / fail, 0.0
        )
    mean = (1.0 - final) * ok_cost + (attempts - (1.0 - final)) * fail_cost
    sent = rate * attempts
    cap_ms = np.full(base.shape, cap)
    parts: dict[str, Parts] = {
        "200": [(sent * ok_fast, np.minimum(base, cap_ms)), (sent * ok_slow, np.minimum(slow, cap_ms))],
        "500": [(sent * answered_5xx, base)],
    }
    if timeout_ms is None:
        parts["500"].append((sent * lost, np.full(base.shape, lost_ms)))
    else:
        parts["504"] = [(sent * (timed_out + lost), cap_ms)]
    return ClientView(attempts, final, mean, timed_out, parts)


def _beyond(median_ms: FloatArray, sigma: float, timeout_ms: float | None) -> FloatArray:
    """Share of log-normal durations around `median_ms` longer than the timeout (0 without one)."""
    if timeout_ms is None:
        return np.zeros(median_ms.shape)
    z = (np.log(timeout_ms) - np.log(np.maximum(median_ms, 1e-3))) / sigma
    return np.asarray(1.0 - normal_cdf(z))
