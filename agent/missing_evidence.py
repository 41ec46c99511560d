"""Which sources of evidence an investigation could not read, and why, from the steps it ran.

A step counts as missing evidence when its tool failed without being the caller's fault: status
`error` and not retryable (the backend was down, silent or not configured; a bad query or argument is
retryable and is not missing evidence). Steps are grouped by the source their tool reads, so the
report says "metrics: Prometheus at … is unreachable …: check MEDIC_PROMETHEUS_URL (7 of 7 calls
failed)" once, not once per call. Whoever planned the investigation, the graph applies this to the
diagnosis (`Diagnosis.made_without`).
"""

from __future__ import annotations

from collections.abc import Iterable

from agent.diagnosis import MissingEvidence
from agent.state import Step

# The source each read tool needs. tests/agent/test_missing_evidence.py checks every registered read
# tool is here, so a new tool cannot fail silently out of the report.
SOURCE_OF_TOOL: dict[str, str] = {
    "golden_signals": "metrics",
    "workload_saturation": "metrics",
    "firing_alerts": "metrics",
    "prom_query": "metrics",
    "prom_list_metrics": "metrics",
    "prom_label_values": "metrics",
    "rank_root_causes": "metrics",
    "anomaly_score": "metrics",
    "forecast_saturation": "metrics",
    "kube_workload": "kubernetes",
    "kube_pods": "kubernetes",
    "kube_events": "kubernetes",
    "kube_nodes": "kubernetes",
    "pod_logs": "logs",
    "find_traces": "traces",
    "get_trace": "traces",
    "service_dependencies": "traces",
    "trace_critical_path": "traces",
    "similar_incidents": "memory",  # past incidents: a diagnosis stands without them, said if unreadable
}
MAX_WHY_CHARS = 400


def backend_failed(step: Step) -> bool:
    """The step's source could not be read (not a mistake in the call itself)."""
    return step.status == "error" and not step.retryable and step.call.tool in SOURCE_OF_TOOL


def missing_evidence(steps: Iterable[Step]) -> list[MissingEvidence]:
    """One entry per source that failed at least once, in the order the failures happened."""
    calls: dict[str, int] = {}
    failed: dict[str, list[Step]] = {}
    for step in steps:
        source = SOURCE_OF_TOOL.get(step.call.tool)
        if source is None:
            continue
        calls[source] = calls.get(source, 0) + 1
        if backend_failed(step):
            failed.setdefault(source, []).append(step)
    out = []
    for source, failures in failed.items():
        first_line = (failures[0].summary.splitlines() or ["no message"])[0]
        out.append(
            MissingEvidence(
                source=source,
                why=first_line[:MAX_WHY_CHARS],
                failed_calls=len(failures),
                calls=calls[source],
            )
        )
    return out
