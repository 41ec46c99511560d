"""The numbers a report leads with: the alerting symptom in the summary, and timeline rows that carry
what each call found rather than only its header line."""

from __future__ import annotations

from pydantic import JsonValue

from agent.report import build_report
from agent.report_symptom import symptom_of
from agent.state import Step, ToolCall
from tests.agent.report_state import incident, state

GOLDEN: dict[str, JsonValue] = {
    "service": "checkout",
    "as_of": "2026-03-02T14:00:00+00:00",
    "baseline_at": "2026-03-02T13:00:00+00:00",
    "server": {
        "request_rate": {"now": 58.4, "before": 58.3, "unit": "per_second"},
        "error_ratio": {"now": 0.2999, "before": 0.0, "unit": "ratio"},
        "latency_p50_s": {"now": 0.0786, "before": 0.0713, "unit": "seconds"},
        "latency_p99_s": {"now": 0.243, "before": 0.2372, "unit": "seconds"},
    },
}
RANK: dict[str, JsonValue] = {
    "onset": "2026-03-02T13:35:45+00:00",
    "anomalous": True,
    "candidates": [
        {
            "entity": "node/node-2",
            "signals": [{"signal": "failed_pods", "change": "failed pods 0 → 4", "unit": "count"}],
        }
    ],
}


def _step(tool: str, data: dict[str, JsonValue], summary: str = "", **args: JsonValue) -> Step:
    return Step(
        call=ToolCall(id=f"r1-{tool}", tool=tool, args=dict(args)), status="ok", summary=summary, data=data
    )


def test_the_symptom_gives_the_alerted_services_numbers_then_and_now_and_the_onset() -> None:
    steps = [_step("golden_signals", GOLDEN, service="checkout"), _step("rank_root_causes", RANK)]
    assert (
        symptom_of(incident(), steps)
        == "checkout 5xx 30 % (was 0 % 1h before), p99 243 ms (was 237 ms) since 13:35 UTC"
    )


def test_traffic_joins_the_symptom_only_when_it_moved() -> None:
    surge: dict[str, JsonValue] = {**GOLDEN, "server": {"request_rate": {"now": 130.0, "before": 58.0}}}
    assert symptom_of(incident(), [_step("golden_signals", surge, service="checkout")]) == (
        "checkout traffic 130 req/s (was 58 req/s)"
    )


def test_an_alert_naming_no_service_gets_the_rankings_top_change_and_a_calm_ranking_no_onset() -> None:
    node_alert = incident().model_copy(update={"services": []})
    assert (
        symptom_of(node_alert, [_step("rank_root_causes", RANK)])
        == "node/node-2: failed pods 0 → 4 since 13:35 UTC"
    )
    calm = {**RANK, "anomalous": False}
    assert symptom_of(node_alert, [_step("rank_root_causes", calm)]) is None
    golden_only = [_step("golden_signals", GOLDEN, service="checkout"), _step("rank_root_causes", calm)]
    assert "since" not in (symptom_of(incident(), golden_only) or "since")


def test_the_report_leads_with_the_symptom_and_its_timeline_rows_carry_numbers() -> None:
    st = state()
    golden = _step(
        "golden_signals",
        GOLDEN,
        "checkout golden signals at 2026-03-02T14:00:00+00:00 (5m window; in brackets 1h earlier):\n"
        "request rate: 58 req/s (was 58 req/s)\nerror ratio: 30 % (was 0 %)\nlatency p50: 79 ms (was 71 ms)\n"
        "latency p99: 243 ms (was 237 ms)\n… 2 more lines not shown",
        service="checkout",
    )
    st["steps"] = [golden, *st["steps"]]
    st["incident"] = st["incident"].model_copy(update={"as_of": st["incident"].as_of.replace(2026, 3, 2)})
    report = build_report(st, planner="rules")
    assert report.symptom == "checkout 5xx 30 % (was 0 % 1h before), p99 243 ms (was 237 ms)"
    assert report.timeline[0].details[-1] == "latency p99: 243 ms (was 237 ms)"  # "… more" is not a finding
    md = report.to_markdown()
    assert f"**Symptom:** {report.symptom}" in md
    row = next(line for line in md.splitlines() if "`golden_signals`" in line)
    assert "checkout golden signals at 14:00:00 (5m window; in brackets 1h earlier): request rate" in row
    assert (
        "error ratio: 30 % (was 0 %) · latency p50: 79 ms (was 71 ms) · latency p99: 243 ms (was 237 ms) |"
        in row
    )
