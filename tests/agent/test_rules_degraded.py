"""The rules planner without Prometheus: on every shipped scenario's sandbox, with the metrics URL pointing
at a closed port, it carries on with Kubernetes, traces and logs, names what is missing and why, and
never claims more than the evidence it had (see agent/planners/degraded.py)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from agent.diagnosis import DEGRADED_CONFIDENCE_CAP
from agent.planners import RulesPlanner
from tests.agent.test_rules_planner import INLINE
from tests.agent.triage_driver import run_triage, scenario_incident, shipped_triage
from tests.sandbox_fixture import SHIPPED, SandboxPool
from tests.tools.prom_fixture import free_port
from tools.backends import open_tool_context
from tools.config import ToolsConfig
from tools.traces.config import TracesConfig

# Faults that Kubernetes shows by itself (pod states, node conditions) or that a rollout right before
# failing calls points at: these are named with their kind even without metrics.
SHOWN_WITHOUT_METRICS = {"crashloop", "memory_leak", "node_pressure", "bad_deploy"}
SURVEY = {"kube_pods", "kube_events", "kube_nodes"}


@pytest.mark.sandbox
@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_without_prometheus_each_scenario_is_investigated_with_what_answers(
    scenario_id: str, sandbox_pool: SandboxPool
) -> None:
    scenario, info = sandbox_pool.get(scenario_id)
    dead = f"http://127.0.0.1:{free_port()}"
    config = ToolsConfig(
        prometheus_url=dead,
        kubeconfig=info.kubeconfig,
        traces=TracesConfig(backend="otlp-file", dir=info.traces_dir),
    )
    with ExitStack() as stack:
        ctx = open_tool_context(config, scenario.end_utc)
        stack.callback(ctx.close)
        triage = run_triage(RulesPlanner(), scenario_incident(scenario), ctx)
    diagnosis, steps = triage.diagnosis, triage.view.steps

    assert triage.rounds >= 2, "it carried on after the first round"
    answered = {s.call.tool for s in steps if s.status in ("ok", "no_data")}
    assert answered >= SURVEY | {"service_dependencies"}
    assert diagnosis.degraded and [m.source for m in diagnosis.missing] == ["metrics"]
    assert dead in diagnosis.missing[0].why and "MEDIC_PROMETHEUS_URL" in diagnosis.missing[0].why
    assert not diagnosis.healthy, "without metrics, 'nothing is wrong' cannot be said"
    assert all(
        h.confidence <= DEGRADED_CONFIDENCE_CAP and h.label != "CONFIRMED" for h in diagnosis.hypotheses
    )
    assert all(h.evidence and set(h.evidence) <= set(triage.view.evidence) for h in diagnosis.hypotheses)

    expected, top = scenario.expect.root_cause, diagnosis.top
    print(f"{scenario.id}: {triage.tool_calls} calls; {diagnosis.summary}")
    if expected is None or expected.service is None:
        assert top is None, diagnosis.hypotheses
    elif expected.kind in SHOWN_WITHOUT_METRICS:
        assert top is not None and expected.service in (top.entity, top.service), diagnosis.hypotheses
        assert (top.fault_kind, top.label) == (expected.kind, "LIKELY"), top
    elif top is not None:  # seen only in traces: the right place, no kind claimed, inconclusive
        assert expected.service in (top.entity, top.service), diagnosis.hypotheses
        assert (top.fault_kind, top.label) == (None, "INCONCLUSIVE"), top


@pytest.mark.sandbox
def test_without_prometheus_on_an_unseen_topology(tmp_path: Path, sandbox_pool: SandboxPool) -> None:
    path = tmp_path / "orchard-degraded-bad-deploy.yaml"
    path.write_text(INLINE.format(id=path.stem, kind="bad_deploy", target="pricing"))
    test_without_prometheus_each_scenario_is_investigated_with_what_answers(str(path), sandbox_pool)


@pytest.mark.sandbox
@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_with_every_backend_up_no_run_is_degraded(scenario_id: str, sandbox_pool: SandboxPool) -> None:
    _, triage = shipped_triage(scenario_id, sandbox_pool)
    assert not triage.diagnosis.degraded and triage.diagnosis.missing == []
