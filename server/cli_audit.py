"""`medic audit show|verify`: the tamper-evident audit log of every action, as a table and as a chain.

Which log: `--report DIR` (the `audit.db` a triage keeps beside its report), else `MEDIC_AUDIT_URL`
when it is set, else the most recently written of `.medic/audit.db` (investigations) and
`.medic/reports/*/audit.db` (triages): the log of the last run.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from server.cli_triage import _settings
from server.progress import e

if TYPE_CHECKING:
    from policies.audit import AuditLog, AuditRecord

audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log of every action.")
ReportOption = Annotated[
    Path | None,
    typer.Option("--report", help="a report folder whose audit.db to read (default: the last run's log)"),
]
AUDIT_FILE = "audit.db"
SHORT_ID = 12  # "act-" and 8 hex digits: enough to tell actions apart; --action-id takes it as a prefix
PIPE_WIDTH = 132  # rich assumes 80 columns when the output is not a terminal: too narrow for a table


@audit_app.command("show")
def audit_show(
    report: ReportOption = None,
    action_id: Annotated[
        str | None, typer.Option(help="only the records of one action (its id, or the start of it)")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="the first N records")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="every record in full, as JSON")] = False,
) -> None:
    """List audit records in order: what was proposed, decided, dry-run, approved, executed, verified."""
    with _audit_log(report, quiet=as_json) as log:
        records = [r for r in log.show() if action_id is None or r.action_id.startswith(action_id)]
    records = records[:limit] if limit else records
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in records], indent=2))
        return
    console = Console()
    if not console.is_terminal:
        console = Console(width=PIPE_WIDTH)
    if not records:
        console.print("no audit records" + (f" for action {action_id}" if action_id else ""), markup=False)
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("seq", justify="right", no_wrap=True)
    for name in ("time (UTC)", "event", "action"):
        table.add_column(name, no_wrap=True)
    table.add_column("actor")
    table.add_column("outcome", overflow="fold", ratio=1)
    for r in records:
        action = r.action_id[:SHORT_ID] or "-"
        at = r.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(str(r.seq), at, r.kind, action, r.actor, outcome(r), style=_STYLE.get(r.kind))
    console.print(table)


_STYLE = {"refusal": "yellow", "execution": "bold", "verification": "green"}


def outcome(record: AuditRecord) -> str:
    """One line on what came of the event, from its payload."""
    p = record.payload
    if record.kind == "proposal":
        return f"{p.get('kind')} {p.get('target')}"
    if record.kind == "decision":  # the outcome and the checks that set it ("rules/x: why" → "rules/x")
        when = " at execution" if p.get("at") == "execution" else ""
        reasons = p.get("reasons")
        rules = [str(r).split(":", 1)[0] for r in reasons] if isinstance(reasons, list) else []
        return f"{p.get('outcome')}{when}" + (f" ({', '.join(rules)})" if rules else "")
    if record.kind == "dry_run":
        changes = p.get("changes")
        said = "; ".join(str(c) for c in changes) if isinstance(changes, list) and changes else "no change"
        return f"ok: {said}" if p.get("ok") else f"failed: {p.get('error')}"
    if record.kind == "approval":
        return f"approved, until {p.get('expires_at')}"
    if record.kind == "refusal":
        return str(p["why"]) if "why" in p else "refused"
    if record.kind == "execution":
        error = p.get("error")
        return f"{p.get('phase')}" + (f": {error}" if error else "")
    if record.kind == "verification":
        return f"{'verified' if p.get('ok') else 'not verified'}: {p.get('detail')}"
    return json.dumps(p, separators=(",", ":"))[:160]


@audit_app.command("verify")
def audit_verify(
    report: ReportOption = None,
    anchor: Annotated[
        str | None, typer.Option(help="SEQ:HASH of a head kept elsewhere (detects a cut tail)")
    ] = None,
) -> None:
    """Walk the hash chain; exit 1 on a gap, an edited record or a broken chain."""
    from policies.audit import Anchor
    from server.cli import fail

    kept = None
    if anchor:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or not digest:
            raise fail("--anchor takes SEQ:HASH, as printed by a previous verify", code=2)
        kept = Anchor(seq=int(seq), hash=digest)
    with _audit_log(report) as log:
        result = log.verify(kept)
    head = f"{result.head.seq}:{result.head.hash}" if result.head else "empty"
    if not result.ok:
        for problem in result.problems:
            Console(stderr=True).print(f"[red]{e(problem)}[/]")
        raise fail(f"audit log does not verify ({len(result.problems)} problem(s)); head {head}")
    Console().print(f"audit log verifies: {result.count} records, head {head}")


def find_audit_url(report: Path | None) -> str:
    """The audit log to read (see the module docstring); a ValueError says why there is none."""
    if report is not None:
        if not (report / AUDIT_FILE).is_file():
            raise ValueError(f"no {AUDIT_FILE} in {report} (a report folder of medic triage keeps one)")
        return str(report / AUDIT_FILE)
    settings = _settings(None)
    if "audit_url" in settings.model_fields_set:  # set on purpose: that one, or say it is missing
        url = settings.audit_url
        if not _is_postgres(url) and not Path(url.removeprefix("sqlite:///")).is_file():
            raise ValueError(f"no audit log at {url} (MEDIC_AUDIT_URL)")
        return url
    found = [Path(settings.audit_url), *(settings.state_dir / "reports").glob(f"*/{AUDIT_FILE}")]
    logs = [p for p in found if p.is_file()]
    if not logs:
        where = f"{settings.audit_url} or {settings.state_dir / 'reports' / '*' / AUDIT_FILE}"
        raise ValueError(f"no audit log yet ({where}); run medic triage, or pass --report DIR")
    return str(max(logs, key=lambda p: p.stat().st_mtime))


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


@contextlib.contextmanager
def _audit_log(report: Path | None, quiet: bool = False) -> Iterator[AuditLog]:
    from policies.audit import AuditLog
    from policies.audit_store import open_audit_store
    from server.cli import err, fail

    try:
        url = find_audit_url(report)
    except ValueError as exc:
        raise fail(str(exc), code=2) from None
    if not quiet and not _is_postgres(url):
        err.print(f"[dim]audit log {e(url)}[/]")
    store = open_audit_store(url)
    try:
        yield AuditLog(store, lambda: datetime.now(UTC))
    finally:
        store.close()
