"""create_app(settings): the one place the web application is put together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

import tnrwatch
from tnrwatch.services.node import Node
from tnrwatch.services.schedule import run_due_jobs
from tnrwatch.services.worker import EmbeddedWorker
from tnrwatch.settings import Settings
from tnrwatch.web import health
from tnrwatch.web.api import actors, alerts, audit, docs, incidents, persons, status, taxonomy
from tnrwatch.web.api import indicators as indicator_routes
from tnrwatch.web.api import map as map_routes
from tnrwatch.web.api import notices as notice_routes
from tnrwatch.web.api import subscriptions as subscription_routes
from tnrwatch.web.api.deps import API_PREFIX
from tnrwatch.web.errors import install_error_handlers
from tnrwatch.web.middleware import RequestLog, SecurityHeaders
from tnrwatch.web.openapi import install_openapi
from tnrwatch.web.partner.server import create_partner_app
from tnrwatch.web.public import followup, home, plain, report
from tnrwatch.web.staff import alerts as staff_alerts
from tnrwatch.web.staff import audit as staff_audit
from tnrwatch.web.staff import coding as staff_coding
from tnrwatch.web.staff import evidence as staff_evidence
from tnrwatch.web.staff import inbox as staff_inbox
from tnrwatch.web.staff import map as staff_map
from tnrwatch.web.staff import monitoring as staff_monitoring
from tnrwatch.web.staff import notes as staff_notes
from tnrwatch.web.staff import notices as staff_notices
from tnrwatch.web.staff import pages as staff_pages
from tnrwatch.web.staff import profiles as staff_profiles
from tnrwatch.web.static_files import CompressedStaticFiles
from tnrwatch.web.taxii.server import create_taxii_app

STATIC_DIR = Path(__file__).parent / "static"

API_DESCRIPTION = """\
The tnrwatch JSON API. Every route needs a personal API token (`tnrwatch tokens create USERNAME`), sent as
`Authorization: Bearer TOKEN`. Every failure answers with one shape:
`{"ok": false, "status": 422, "error": "...", "errors": [{"loc": ["query", "tactic", 0], "msg": "..."}]}`.
"""


def create_app(settings: Settings, node: Node | None = None) -> FastAPI:
    """Build the application. Pass `node` to share an already open node (tests); else one is opened at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = node is None
        app.state.node = node or Node.open(settings)
        jobs = None
        delivery_worker = None
        if own:  # `tnrwatch serve`: the report writer is ready before the first report (others start it then)
            await report.report_writer(app).start()
            if app.state.node.analytics is not None:
                app.state.node.analytics.build_in_background()  # the map reads the database until it is built
            if settings.scheduled_minutes:
                jobs = asyncio.create_task(_scheduled_jobs(app.state.node, settings.scheduled_minutes * 60))
            if settings.worker == "embedded":  # subscriptions' deliveries (services/worker.py), stopped below
                delivery_worker = EmbeddedWorker(app.state.node)
                delivery_worker.start()
        try:
            yield
        finally:
            if delivery_worker is not None:
                await run_in_threadpool(delivery_worker.stop)
            if jobs is not None:
                jobs.cancel()
                with suppress(asyncio.CancelledError):
                    await jobs
            await report.stop_report_writers(app)
            if own:
                app.state.node.close()

    app = FastAPI(
        title="tnrwatch",
        version=tnrwatch.__version__,
        description=API_DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # the stock pages load Swagger UI from a CDN; ours serves a vendored copy
        redoc_url=None,
        lifespan=lifespan,
    )
    if node is not None:
        app.state.node = node
    app.state.settings = settings

    # The public intake first: routes are matched in order, and the intake is the busiest path.
    app.include_router(health.router)
    app.include_router(plain.router)  # before `report`: /report/plain must not be read as a report page
    app.include_router(report.router)
    app.include_router(followup.router)
    for module in (status, incidents, map_routes, taxonomy, persons, actors, alerts, audit):
        app.include_router(module.router)
    app.include_router(subscription_routes.router)
    app.include_router(indicator_routes.router)
    app.include_router(notice_routes.router)
    app.include_router(home.router)
    app.include_router(staff_pages.router)
    app.include_router(staff_audit.router)
    app.include_router(staff_map.router)
    app.include_router(staff_monitoring.router)
    app.include_router(staff_profiles.router)
    app.include_router(staff_evidence.router)
    app.include_router(staff_coding.router)
    app.include_router(staff_notes.router)
    app.include_router(staff_alerts.router)
    app.include_router(staff_inbox.router)
    app.include_router(staff_notices.router)
    if settings.api_docs:
        app.include_router(docs.router)
    app.mount("/static", CompressedStaticFiles(directory=STATIC_DIR), name="static")
    # Partner nodes: a zone of its own, with its own authentication and TAXII's error shape (web/taxii/server.py).
    app.mount("/taxii2", create_taxii_app(lambda: app.state.node), name="taxii")
    # Partner nodes' plain JSON endpoints (the blind-index screening query), zoned as TAXII (web/partner/server.py).
    app.mount("/partner", create_partner_app(lambda: app.state.node), name="partner")

    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestLog)
    logging.getLogger("tnrwatch").setLevel(settings.log_level.upper())
    return app


async def _scheduled_jobs(node: Node, every: float) -> None:
    """Run the node's scheduled jobs (services/schedule.py) now and then every `every` seconds. A failed run is
    logged (without its data) and tried again next time."""
    while True:
        try:
            await run_in_threadpool(run_due_jobs, node)
        except Exception:  # the server must keep serving; the next run tries again
            logging.getLogger(__name__).exception("the scheduled jobs failed; they run again in %d s", every)
        await asyncio.sleep(every)


def app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` (used by `tnrwatch serve --workers N`): settings from TNRWATCH_* variables."""
    return create_app(Settings())
