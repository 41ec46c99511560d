"""The eval report as one self-contained HTML file (no scripts, no external assets): the scoreboard,
then per case its verdict, the signals chart (the PNG the agent wrote beside the case's report,
embedded as a data URI), the evidence trail, and the guard's steps in both policy modes.

Every text from a report is escaped: alert annotations and log lines are the world's text, and some
of it is written to be hostile (the adversarial scenarios).
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from pydantic import ValidationError

from agent.report import GuardOutcome, Report
from evals.case_run import MODE_DIRS
from evals.report_markdown import calibration, said, violations_text
from evals.report_model import CaseInfo, EvalReport
from evals.scoring import ScenarioScore

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:left}
th{background:#f2f2f2}.ok{color:#176d2c}.bad{color:#a3141e;font-weight:600}
section{border-top:2px solid #ddd;margin-top:1.5em;padding-top:.5em}img{max-width:100%}
code{font-size:12px}details{margin:.3em 0}.muted{color:#777}
"""


def render_html(report: EvalReport, report_dir: Path) -> str:
    """`report_dir`: the folder the JSON report is in (the cases' run folders are relative to it)."""
    s, e = report.summary, report.enforce.summary
    body = [
        f"<h1>medic eval: {escape(report.suite)} ({escape(report.planner)} planner)</h1>",
        f"<p>{s.n} cases in {report.wall_s:.0f} s with {report.jobs} job(s). Safety violations: "
        f"{_count(s.safety_violations)} dry-run, {_count(e.safety_violations)} enforce.</p>",
        "<h2>Scoreboard</h2>",
        _scoreboard(report),
        "<h2>Cases</h2>",
    ]
    for dry, enforced in zip(report.scenarios, report.enforce.scenarios, strict=True):
        body.append(_case(dry, enforced, report.case(dry.id), report_dir))
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>medic eval: {escape(report.suite)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _count(n: int) -> str:
    return f'<span class="{"ok" if n == 0 else "bad"}">{n}</span>'


def _scoreboard(report: EvalReport) -> str:
    head = (
        "<tr><th>group</th><th>n</th><th>AC@1</th><th>AC@3</th><th>kind</th><th>remediation</th>"
        "<th>safety dry-run</th><th>safety enforce</th><th>calibration</th><th>tool calls</th>"
        "<th>wall p50 s</th><th>wall p95 s</th></tr>"
    )
    rows = []
    for g in report.groups:
        d = g.dry_run
        name = "overall" if g.by == "overall" else f"{g.by}: {g.name}"
        cells = [
            escape(name),
            str(d.n),
            f"{d.ac_at_1:.2f}",
            f"{d.ac_at_3:.2f}",
            f"{d.kind_accuracy:.2f}",
            f"{d.remediation_accuracy:.2f}",
            _count(d.safety_violations),
            _count(g.enforce.safety_violations),
            escape(calibration(d)),
            f"{d.mean_tool_calls:.1f}",
            f"{d.p50_wall_s:.2f}",
            f"{d.p95_wall_s:.2f}",
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _case(dry: ScenarioScore, enforced: ScenarioScore, info: CaseInfo | None, report_dir: Path) -> str:
    right = dry.scored and dry.correct_at_1 and dry.remediation_correct
    unsafe = bool(dry.safety_violations or enforced.safety_violations)
    mark = "—" if not dry.scored else ("✓" if right else "✗")
    cls = "bad" if unsafe or (dry.scored and not right) else "ok"
    run_dir = report_dir / info.run_dir if info else None
    reports = {
        mode: _load(run_dir / folder / "report.json") if run_dir else None
        for mode, folder in MODE_DIRS.items()
    }
    main = reports["dry_run"]
    parts = [
        f'<section id="{escape(dry.id)}"><h3><span class="{cls}">{mark}</span> {escape(dry.id)}</h3>',
        f"<p>Classes: {escape(', '.join(dry.tags.classes))} ({dry.tags.difficulty}) · expected kind: "
        f"{escape(dry.expected_kind or 'not scored')} · predicted: {escape(said(dry))} · "
        f"{dry.tool_calls} tool calls · {dry.wall_s:.2f} s</p>",
        f"<p>Verdict: <b>{escape(main.verdict) if main else 'no report'}</b></p>",
        f"<p>Safety: {escape(violations_text(dry, enforced))}</p>",
    ]
    if main is not None and run_dir is not None:
        parts.append(_chart(run_dir / MODE_DIRS["dry_run"], main))
        parts.append(_evidence(main))
    for mode, report in reports.items():
        parts.append(_guard(mode, report.guard if report else None))
    parts.append("</section>")
    return "\n".join(parts)


def _load(path: Path) -> Report | None:
    try:
        return Report.model_validate_json(path.read_text())
    except (OSError, ValidationError):
        return None


def _chart(mode_dir: Path, report: Report) -> str:
    png = mode_dir / "signals.png"
    if not png.is_file():
        return f'<p class="muted">No chart: {escape(report.chart.note or "none was written")}</p>'
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return f'<img alt="signals chart" src="data:image/png;base64,{data}">'


def _evidence(report: Report) -> str:
    cited = set(report.cited)
    diagnosis = report.diagnosis
    items = []
    for h in diagnosis.hypotheses if diagnosis else []:
        items.append(
            f"<li><b>{escape(h.entity)}</b>: {escape(h.kind_text)} ({h.label}, {h.confidence:.2f}): "
            f"{escape(h.summary)} <code>{escape(', '.join(h.evidence))}</code></li>"
        )
    trail = [
        f"<li><code>{escape(e.id)}</code> ({escape(e.source)}){' <b>cited</b>' if e.id in cited else ''}: "
        f"{escape(e.description)}</li>"
        for e in report.evidence
    ]
    steps = [
        f"<li>{escape(t.tool)} ({escape(t.status)}, {t.elapsed_s:.2f} s): {escape(t.summary)}</li>"
        for t in report.timeline
    ]
    return (
        f"<h4>Hypotheses</h4><ol>{''.join(items) or '<li>none</li>'}</ol>"
        f"<details><summary>Evidence trail ({len(trail)})</summary><ul>{''.join(trail)}</ul></details>"
        f"<details><summary>Tool calls ({len(steps)})</summary><ol>{''.join(steps)}</ol></details>"
    )


def _guard(mode: str, guard: GuardOutcome | None) -> str:
    title = f"The guard, {mode.replace('_', '-')} pass"
    if guard is None:
        return f"<h4>{title}</h4><p class=muted>nothing proposed</p>"
    rows = [
        ("decision", guard.decision),
        ("rules", "; ".join(guard.matched_rules)),
        ("change", "; ".join(guard.diff)),
        ("kubectl", "; ".join(guard.kubectl)),
        ("approval", guard.approval),
        ("execution", guard.execution),
        ("verification", guard.verification),
    ]
    cells = "".join(f"<tr><th>{k}</th><td>{escape(v or '—')}</td></tr>" for k, v in rows)
    return f"<h4>{title}</h4><table>{cells}</table>"
