"""Fault-kind classification of one candidate from its findings: the SRE's checklist, as rules.

Order matters and follows how specific a symptom is: a node condition or one failing pod names the
fault outright; pod states (OOMKilled, then CrashLoopBackOff) come next; then saturation with or without
more traffic; then a rollout at the onset; last the faults that show only in what callers see.
Thresholds are general (robust sigmas, ratios), never per service or scenario.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.diagnosis import FaultKind
from agent.planners.findings import NEAR_ONSET_S, Findings

STRONG = 10.0  # robust sigmas: the ranking's own "anomalous" bar
SURGE_RATIO = 1.3  # incoming traffic this much above its pre-onset level is a surge


class Verdict(BaseModel):
    kind: FaultKind | None = Field(
        description="None: a fault the taxonomy has no kind for (an application error)"
    )
    confidence: float = Field(ge=0, le=1)
    because: list[str] = Field(description="the facts the rule stood on, in words and units")
    facts: list[str] = Field(
        description="keys of Findings.evidence that support it: only facts that hold, `rank` last"
    )

    @property
    def own_facts(self) -> list[str]:
        """Supporting facts beyond the anomaly ranking (a rollout, pod states, saturation, logs, a node)."""
        return [f for f in self.facts if f != "rank"]


def deployed_at_onset(f: Findings) -> bool:
    """A revision became current close enough before (or just after) the onset to be its trigger."""
    age = f.revision_age_s
    return age is not None and -NEAR_ONSET_S <= age <= NEAR_ONSET_S / 3


def _rollout_words(f: Findings) -> list[str]:
    if not deployed_at_onset(f) or f.revision_age_s is None:
        return []
    minutes = round(-f.revision_age_s / 60)
    when = f"{minutes} min before the onset" if minutes >= 1 else "right at the onset"
    return [f"a new revision became current {when}"]


def _log_words(f: Findings) -> list[str]:
    return [f'log: "{f.log_excerpt}"'] if f.log_excerpt else []


def _evicted_words(f: Findings) -> str:
    if f.pods_checked and f.evicted_pods:
        share = f.evicted_pods / f.pods_checked
        return f"{f.evicted_pods} of the {f.pods_checked} pods on it evicted ({share:.0%})".replace("%", " %")
    return f"{f.evicted_pods} evicted pods"


def _detail(signal: str | None) -> str:
    """The readable part of a trace or log signal key (`log_new_errors|<template>`)."""
    return (signal or "").partition("|")[2] or (signal or "")


def _waits_past_old_tail(f: Findings) -> bool:
    """Its callers' median wait of late (traces) is at least their p99 before the onset (metrics)."""
    before = f.baselines.get("callers_latency_p99")
    return f.callers_wait_ms is not None and before is not None and f.callers_wait_ms / 1000 >= before > 0


def _holding(**facts: bool) -> list[str]:
    """The fact keys whose condition holds, in the order given, then `rank`."""
    return [name for name, held in facts.items() if held] + ["rank"]


def _score(base: float, corroborating: int) -> float:
    return round(min(0.95, base + 0.1 * corroborating), 2)


def classify(f: Findings) -> Verdict:
    """The most specific fault kind the findings support (see the module docstring for the order)."""
    own_errors = f.signal("error_ratio") >= STRONG
    own_latency = f.signal("latency_p99") >= STRONG
    callers_errors = f.signal("callers_error_ratio") >= STRONG
    callers_latency = f.signal("callers_latency_p99") >= STRONG
    deployed = deployed_at_onset(f)
    # Saturation is the pods' own state (at the CPU limit, throttled): a ranking row alone is a change
    # against the baseline, and a busy service's burst the baseline never saw makes one too.
    saturated = f.cpu_at_limit or f.throttled
    cpu_per_request_up = f.signal("cpu_per_request") >= STRONG
    cpu_cost_up = cpu_per_request_up or f.signal("cpu_throttling") >= STRONG
    # What the traces and logs add (rows of the same ranking, told apart by their source):
    trace_errors = f.strongest("traces", ("errors",))[0] >= STRONG
    trace_own_latency = f.strongest("traces", ("latency",), "trace_latency_")[0] >= STRONG
    trace_callers_latency = f.strongest("traces", ("latency",), "trace_callers_latency_")[0] >= STRONG
    self_time_up = f.strongest("traces", ("resource",), "trace_self_time")[0] >= STRONG
    log_score, log_signal = f.strongest("logs", ("errors",))
    log_errors = log_score >= STRONG
    log_shift_score, log_shift_signal = f.strongest("logs", ("other",))
    own_errors |= trace_errors
    own_latency |= trace_own_latency
    # a network delay shows where callers wait, not in the service's own spans
    callers_latency |= trace_callers_latency and not trace_own_latency
    logs = f.config_error_logs or f.error_logs or log_errors

    if f.entity_kind == "node" or f.node_conditions:
        pressure = [c for c in f.node_conditions if c.endswith("Pressure") or c == "Ready"]
        return Verdict(
            kind="node_pressure",
            confidence=_score(0.5, bool(pressure) + (f.evicted_pods > 0) + (f.signal("failed_pods") > 0)),
            because=[
                f"node condition {', '.join(pressure) or 'changed'}",
                _evicted_words(f),
                *f.change("failed_pods"),
            ],
            facts=_holding(node=bool(f.node_conditions), pods=f.evicted_pods > 0),
        )
    if f.entity_kind == "pod":
        return Verdict(
            kind="pod_failure",
            confidence=_score(0.6, (f.signal("pod_error_ratio") >= STRONG) + 1),
            because=[
                "one pod fails its requests while its siblings are healthy",
                *f.change("pod_error_ratio"),
            ],
            facts=_holding(),
        )
    if f.oom_killed or (f.memory_at_limit and f.restarts > 0):
        return Verdict(
            kind="memory_leak",
            confidence=_score(0.5, f.oom_killed + f.memory_at_limit + (f.restarts > 0)),
            because=(["containers OOMKilled"] if f.oom_killed else [])
            + [f"{f.restarts} restarts", "memory climbing to the limit", *f.change("memory_vs_limit")]
            + f.change("latency_p99"),
            facts=_holding(pods=f.oom_killed or f.restarts > 0, saturation=f.memory_at_limit or f.oom_killed),
        )
    if f.crashlooping or (f.restarts > 0 and f.error_terminations and not f.oom_killed):
        return Verdict(
            kind="crashloop",
            confidence=_score(0.5, deployed + f.config_error_logs + f.crashlooping),
            because=[
                f"pods in CrashLoopBackOff, {f.restarts} restarts"
                if f.crashlooping
                else f"{f.restarts} restarts with errors"
            ]
            + _rollout_words(f)
            + (["configuration errors in the logs"] if f.config_error_logs and not f.log_excerpt else [])
            + f.change("callers_error_ratio")
            + _log_words(f),
            facts=_holding(pods=True, rollout=deployed, logs=logs),
        )
    if saturated and (f.traffic_ratio or 1.0) >= SURGE_RATIO and not cpu_per_request_up:
        return Verdict(
            kind="traffic_surge",
            confidence=_score(0.5, f.throttled + f.cpu_at_limit + 1),
            because=[
                f"incoming traffic ×{f.traffic_ratio:.1f} its baseline and CPU pinned at its limit"
                " (utilisation > 1)",
                *f.change("cpu_throttling"),
                *f.change("latency_p99"),
            ],
            facts=_holding(saturation=saturated),
        )
    if self_time_up and not (cpu_cost_up or saturated or own_errors or log_errors or deployed):
        # It answers slowly with no resource signal at all (a lock, a slow disk, a slower query plan):
        # the dependency-latency kind by its definition; its owner is called, nothing is restarted.
        return Verdict(
            kind="dependency_latency",
            confidence=_score(0.4, 1),
            because=[
                "it answers slowly: its own work per request slowed (trace self time)",
                "no CPU or other resource signal, no errors, no rollout",
                *f.change("latency_p99"),
            ],
            facts=_holding(),
        )
    if cpu_cost_up and not (saturated or own_errors or log_errors or deployed):
        # Its work got costlier, but no pod is at its CPU limit (contention, GC, a slower code path, a
        # burst): the kind stays open and a person is called, rather than a restart that may not help.
        return Verdict(
            kind=None,
            confidence=_score(0.4, 1),
            because=[
                "its CPU per request rose",
                *(["its own work per request slowed (trace self time)"] if self_time_up else []),
                "no pod of it is at its CPU limit or throttled",
                *f.change("cpu_per_request"),
                *f.change("latency_p99"),
            ],
            facts=_holding(),
        )
    if saturated:
        return Verdict(
            kind="cpu_hog",
            confidence=_score(0.5, f.throttled + f.cpu_at_limit + cpu_cost_up),
            because=[
                "CPU at its limit and throttled without more traffic",
                *f.change("cpu_per_request"),
                *f.change("cpu_throttling"),
                *f.change("latency_p99"),
            ],
            facts=_holding(saturation=saturated),
        )
    if deployed and (own_errors or own_latency or callers_errors or log_errors):
        return Verdict(
            kind="bad_deploy",
            confidence=_score(0.55, own_errors + own_latency + callers_errors + (f.error_logs or log_errors)),
            because=_rollout_words(f)
            + (f.change("error_ratio") if own_errors else [])
            + (f.change("latency_p99") if own_latency else [])
            + (f.change("callers_error_ratio") if callers_errors and not own_errors else [])
            + _log_words(f),
            facts=_holding(rollout=True, logs=logs),
        )
    if log_errors or (log_shift_score >= STRONG and not (callers_latency or own_latency)):
        # Errors (or a changed log) in its own logs with no rollout: the code fails at run time. No
        # restart or rollback of ours fixes that; the kind stays open and the owner is called.
        signal = log_signal if log_errors else log_shift_signal
        return Verdict(
            kind=None,
            confidence=_score(0.45, log_errors + (callers_errors or own_errors) + f.error_logs),
            because=[
                "new or surging error lines in its logs" if log_errors else "its log lines changed",
                f"log: {_detail(signal)}",
                "no rollout before the onset",
                *f.change("callers_error_ratio"),
                *f.change("error_ratio"),
                *_log_words(f),
            ],
            facts=_holding(logs=True),
        )
    if callers_errors and not own_errors and _waits_past_old_tail(f):
        # Loss fails some calls and leaves the rest as fast as before; a delay past the callers'
        # timeout fails them too, but every call waits: their median now sits above their old p99.
        return Verdict(
            kind="dependency_latency",
            confidence=_score(0.5, 1 + (f.has_workload is False)),
            because=[
                "callers see errors towards it while its own server metrics are normal",
                f"their median wait on it ({f.callers_wait_ms:.0f} ms, traces) is above their p99 before "
                f"the onset ({f.baselines['callers_latency_p99'] * 1000:.0f} ms): every call slowed, "
                "and the errors are calls that gave up waiting",
                *f.change("callers_error_ratio"),
            ],
            facts=_holding(callers_wait=True),
        )
    if callers_errors and not own_errors:
        return Verdict(
            kind="packet_loss",
            confidence=_score(0.5, 1 + callers_latency),
            because=[
                "callers see errors towards it while its own server metrics are normal",
                *f.change("callers_error_ratio"),
                *f.change("callers_latency_p99"),
            ],
            facts=_holding(),
        )
    if callers_latency and not own_errors:
        return Verdict(
            kind="dependency_latency",
            confidence=_score(0.5, 1 + (f.has_workload is False) + (not saturated)),
            because=[
                "callers wait longer on it",
                *f.change("callers_latency_p99"),
                "no resource signal on it",
            ]
            + (
                ["it has no workload in the cluster (an external dependency)"]
                if f.has_workload is False
                else []
            ),
            facts=_holding(rollout=f.has_workload is False),
        )
    if own_errors:
        return Verdict(
            kind="bad_deploy",
            confidence=_score(0.3, deployed),
            because=[
                "its own error ratio went up",
                *f.change("error_ratio"),
                *_rollout_words(f),
                *_log_words(f),
            ],
            facts=_holding(rollout=deployed, logs=logs),
        )
    top = _strongest_signal(f)
    if top is None or f.kinds.get(top) == "latency":
        return Verdict(
            kind="dependency_latency",
            confidence=0.3,
            because=["its latency went up without an error or a resource signal", *f.change("latency_p99")],
            facts=_holding(),
        )
    # Its strongest change is of a kind no rule above names (memory far from its limit, a traffic
    # change, a trace's fan-out): saying "latency" would send the owner after the wrong thing.
    return Verdict(
        kind=None,
        confidence=0.3,
        because=[
            "no fault kind fits its strongest change (no rule on latency, errors, a rollout, restarts or "
            "saturation held)",
            *f.change(top),
        ],
        facts=_holding(),
    )


def _strongest_signal(f: Findings) -> str | None:
    """The ranked signal of the candidate that moved most (None: none did)."""
    return max(f.sigmas, key=lambda name: abs(f.sigmas[name]), default=None)
