"""`medic serve`: the HTTP service (API, Alertmanager intake, Slack) with its background worker."""

from __future__ import annotations

from typing import Annotated

import typer


def serve_command(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port to listen on")] = 8080,
    worker: Annotated[
        bool | None,
        typer.Option("--worker/--no-worker", help="investigate here too (default MEDIC_SERVE_WORKER)"),
    ] = None,
) -> None:
    """Serve the incident API (and the Slack app when MEDIC_SLACK_SIGNING_SECRET and MEDIC_SLACK_BOT_TOKEN
    are set); investigations run in the background, shared with other replicas through
    MEDIC_DATABASE_URL (PostgreSQL)."""
    import uvicorn

    from server.app import create_app
    from server.cli_triage import _settings
    from server.logs import configure_logging
    from server.telemetry import configure_tracing

    settings = _settings(None)
    service = settings.service_config()
    if worker is not None:
        service = service.model_copy(update={"run_worker": worker})
    configure_logging()
    configure_tracing(settings.telemetry_config())
    app = create_app(service, settings.agent_config())
    # uvicorn turns SIGTERM/SIGINT into a graceful shutdown: the lifespan stops the worker, in-flight
    # steps finish, and what does not is taken over by another replica when its lease runs out.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=30)
