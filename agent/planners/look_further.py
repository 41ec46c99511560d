"""When the ranking finds nothing while something is reported: look further before saying anything.

An alert that fires while no entity's signals clear the ranking's bar is not "nothing is wrong" after
four tool calls: the fault may sit where the ranking's signals do not reach (a pod that crashes between
scrapes, a dependency without metrics, a slowdown only the traces show). The rules planner then runs
the namespace survey of `agent.planners.degraded` (a second ranking over 6 h, whose baseline starts
before a ramp of hours the first one's holds; every pod, the events, the nodes, the trace graph
against its baseline, the alerted service's slowest traces, the saturation of the alerted service and
of what it calls: a slow creep older than the ranking's window shows there first; the forecast of
the alerted service's memory and CPU against their limits) and the suspects' rollouts, pods and logs.

- Something stands out: hypotheses from what Kubernetes and the traces show, capped below CONFIRMED
  (the metrics did not see it).
- Nothing does, but the alerted service is forecast to reach a CPU or memory limit within the
  horizon (`agent.planners.forecast`): that coming saturation, LIKELY, so the runbook's action is
  proposed ahead of the crash (a restart for a leak, a bounded scale for a surge) and a person
  approves it.
- Nothing does and an alert fires: INCONCLUSIVE, no hypothesis, an escalation to the alerted service's
  owner that lists what was checked (`Diagnosis.checked`), so whoever takes over starts from there.
- Nothing does and no alert fires (a question): healthy, with what was checked.
"""

from __future__ import annotations

from agent.diagnosis import Diagnosis
from agent.planners.degraded import diagnose_from_survey
from agent.planners.findings import steps_of
from agent.planners.forecast import forecast_hypothesis
from agent.state import PlannerView, Step

FIRST_ROUND_TOOLS = ("rank_root_causes", "golden_signals", "firing_alerts")
SURVEY_TOOLS = (
    "kube_pods",
    "kube_events",
    "kube_nodes",
    "workload_saturation",
    "forecast_saturation",
    "service_dependencies",
    "find_traces",
    "pod_logs",
)
CHECKED_CHARS = 160


def alert_firing(view: PlannerView) -> bool:
    """The incident came from an alert, or the alerts read in the first round include one firing."""
    if view.incident.source == "alert":
        return True
    return any(
        isinstance(s.data.get("alerts"), list) and s.data["alerts"] for s in steps_of(view, "firing_alerts")
    )


def _gist(step: Step) -> str:
    """The start of the tool's own summary, which states its verdict before listing details."""
    text = " ".join(step.summary.split())
    return text if len(text) <= CHECKED_CHARS else text[: CHECKED_CHARS - 1] + "…"


def what_was_checked(view: PlannerView) -> list[str]:
    """One line per source the investigation read, in the words of the tool's own summary."""
    lines = []
    for tool in FIRST_ROUND_TOOLS + SURVEY_TOOLS:
        for step in steps_of(view, tool):
            lines.append(f"{tool}: {_gist(step)}")
    return list(dict.fromkeys(lines))


def diagnose_unranked(view: PlannerView, healthy_summary: str, largest_change: str = "") -> Diagnosis:
    """The diagnosis after looking further (see the module docstring)."""
    found = diagnose_from_survey(view, "nothing cleared the ranking's bar, but the survey shows")
    if found is not None:
        return found
    checked = what_was_checked(view)
    ahead = forecast_hypothesis(view)
    if ahead is not None:
        return Diagnosis(
            healthy=False,
            summary=f"nothing has failed yet, but a limit is ahead: {ahead.summary}",
            hypotheses=[ahead],
            checked=checked,
        ).checked_against(set(view.evidence))
    if alert_firing(view):
        where = ", ".join(view.incident.services) or view.incident.namespace or "the alerted service"
        return Diagnosis(
            healthy=False,
            summary=f"INCONCLUSIVE: the alert on {where} fires, but no metric, pod, event, node or trace "
            "stands out"
            + (f" ({largest_change})" if largest_change else "")
            + "; escalating with what was checked",
            checked=checked,
        )
    return Diagnosis(healthy=True, summary=healthy_summary, checked=checked)
