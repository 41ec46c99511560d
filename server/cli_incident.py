"""`medic incident feedback`: tell medic whether an incident's verdict was right, and what it really was.

Like `medic mcp`, it works on the configured incident store (MEDIC_DATABASE_URL, else the SQLite file
in MEDIC_STATE_DIR) as the subject of a token of MEDIC_API_TOKENS with the responder role, so the
feedback is the same record the API and Slack keep. With `--memory DIR` it goes to a local memory
folder instead (the one `similar_incidents` reads in a triage outside the service).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

incident_app = typer.Typer(no_args_is_help=True, help="Feedback on incidents, for medic's memory.")


@incident_app.command("feedback")
def feedback_command(
    incident_id: Annotated[str, typer.Argument(help="the incident's id")],
    right: Annotated[
        bool | None, typer.Option("--right/--wrong", help="was medic's verdict right?", show_default=False)
    ] = None,
    cause: Annotated[
        str | None, typer.Option(help="the true cause as SERVICE[:KIND], e.g. payments:memory_leak")
    ] = None,
    fixed_by: Annotated[str, typer.Option(help="what fixed it, e.g. 'rolled back checkout'")] = "",
    notes: Annotated[str, typer.Option(help="anything else a responder should know next time")] = "",
    token_file: Annotated[
        Path | None, typer.Option(help="a file holding a responder's API token (one of MEDIC_API_TOKENS)")
    ] = None,
    memory: Annotated[
        Path | None, typer.Option(help="a local memory folder instead of the incident store")
    ] = None,
) -> None:
    """Record whether the verdict was right or wrong, the true cause, what fixed it and notes."""
    from pydantic import ValidationError

    from server.cli import fail
    from server.feedback import FeedbackIn, parse_cause

    if right is None:
        raise fail("say --right or --wrong: was medic's verdict right?", code=2)
    try:
        body = FeedbackIn(
            verdict="right" if right else "wrong",
            cause=parse_cause(cause) if cause else None,
            fixed_by=fixed_by,
            notes=notes,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(f"--{'-'.join(str(p) for p in first['loc'][:1])}: {first['msg']}", code=2) from None
    except ValueError as exc:
        raise fail(f"--cause: {exc}", code=2) from None
    line = _to_folder(memory, incident_id, body) if memory else _to_store(token_file, incident_id, body)
    typer.echo(f"recorded on {incident_id}: {line}")


def _to_folder(folder: Path, incident_id: str, body: object) -> str:
    from datetime import UTC, datetime
    from getpass import getuser

    from server.cli import fail
    from server.feedback import FeedbackIn, feedback_line
    from tools.memory.local import FolderMemory
    from tools.memory.model import Cause, PastFeedback

    assert isinstance(body, FeedbackIn)
    cause = Cause(service=body.cause.service, kind=body.cause.kind) if body.cause else None
    given = PastFeedback(
        verdict="right" if body.verdict == "right" else "wrong",
        cause=cause,
        fixed_by=body.fixed_by,
        notes=body.notes,
        by=getuser(),
        at=datetime.now(UTC),
    )
    try:
        FolderMemory(folder).add_feedback(incident_id, given)
    except KeyError as exc:
        raise fail(f"{exc.args[0]}: triage it with --memory {folder} first", code=2) from None
    return feedback_line(body)


def _to_store(token_file: Path | None, incident_id: str, body: object) -> str:
    from server.auth import Forbidden, Unauthorized, authenticate, require
    from server.cli import fail
    from server.cli_triage import _settings
    from server.feedback import FeedbackIn, record_feedback
    from server.store.engine import database_url, open_engine
    from server.store.incidents import IncidentStore, NotFound

    assert isinstance(body, FeedbackIn)
    if token_file is None:
        raise fail("--token-file: a responder's API token is needed to give feedback", code=2)
    settings = _settings(None)
    service = settings.service_config()
    try:
        token = token_file.read_text().strip().splitlines()[0].strip()
        principal = require(authenticate(f"Bearer {token}", service.api_tokens), "responder")
    except (OSError, IndexError, UnicodeDecodeError):
        raise fail(f"--token-file: cannot read a token from {token_file}", code=2) from None
    except (Unauthorized, Forbidden) as exc:
        raise fail(f"--token-file: {exc} (tokens are MEDIC_API_TOKENS)", code=2) from None
    engine = open_engine(database_url(service.database_url, service.state_dir))
    try:
        return record_feedback(IncidentStore(engine), incident_id, body, by=principal)
    except NotFound:
        raise fail(f"no incident {incident_id} in the incident store", code=2) from None
    finally:
        engine.dispose()
