"""`tnrwatch serve`: the web application under uvicorn, without access logs (they would hold client addresses)."""

from __future__ import annotations

import os

import typer
import uvicorn

from tnrwatch.cli.common import err, load_settings

app = typer.Typer()


def serve(
    host: str | None = typer.Option(None, "--host", help="Address to listen on (default: TNRWATCH_HOST)."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on (default: TNRWATCH_PORT)."),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Worker processes (default: TNRWATCH_WORKERS)."),
) -> None:
    """Serve the web application and the API."""
    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    # The workers are separate processes that read their settings from the environment: pass the overrides on.
    os.environ.update({"TNRWATCH_HOST": host, "TNRWATCH_PORT": str(port), "TNRWATCH_WORKERS": str(workers)})
    err.print(f"tnrwatch serving on http://{host}:{port} ({workers} worker{'s' if workers > 1 else ''})")
    uvicorn.run(
        "tnrwatch.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        server_header=False,
        proxy_headers=False,  # never trust or record forwarded client addresses
        log_level=settings.log_level,
    )
