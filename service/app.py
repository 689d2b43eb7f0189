"""The FastAPI application."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from service import __version__, tasks, web
from service.access.endpoints import audit, grants, persons, tokens
from service.analysis import endpoints as analysis
from service.care.endpoints import lab_results, self_reports, sessions
from service.clients import endpoints as clients
from service.core.db import connect, migrate
from service.core.db.types import Pool
from service.core.http import health, middleware, openapi, problems, unknown_query
from service.core.settings import Settings, get_settings
from service.fhir import endpoints as fhir
from service.imports import endpoints as imports
from service.jobs import endpoints as jobs_routes
from service.jobs import runtime
from service.observations import endpoints as observations
from service.privacy import endpoints as privacy
from service.sync import endpoints as cloud_sync
from service.trials import endpoints as trial_plans
from service.webhooks import endpoints as webhooks

DESCRIPTION = """What a massage session does to a person's body, measured by the wearable they
already wear. Authenticate with `Authorization: Bearer <token>`; errors are RFC 9457
problem documents; lists use cursor pagination."""


def create_app(
    settings: Settings | None = None, pool: Pool | None = None, *, background: bool = False
) -> FastAPI:
    """The API. Without a pool, one is opened (and migrations applied) at startup.

    With ``background`` the process also runs a scheduler candidate and one job
    worker (``vagus serve``, the single-machine default).
    """
    settings = settings or get_settings()
    tasks.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own_pool = pool is None
        if own_pool:
            url = connect.database_url(settings)
            migrate.upgrade(url, settings.migrations_dir)
            app.state.pool = connect.create_pool(url, settings.pool_size)
        jobs = runtime.start(app.state.pool, settings, connect.database_url(settings)) if background else None
        try:
            yield
        finally:
            if jobs is not None:
                jobs.stop()
            if own_pool:
                app.state.pool.close()

    # FastAPI's own /docs and /redoc load from a CDN: off. web.install serves the pages, their
    # static files and local /docs and /redoc (service/web/).
    app = FastAPI(
        title="Vagus",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(unknown_query.refuse_unknown_query)],
    )
    web.install(app)
    app.state.settings = settings
    if pool is not None:
        app.state.pool = pool
    problems.install(app)
    openapi.install(app)
    middleware.install(app, settings)
    for module in (grants, tokens, audit, privacy):
        app.include_router(module.router)
    for module in (health, persons, clients, imports, observations, analysis):
        app.include_router(module.router)
    for module in (sessions, self_reports, lab_results, trial_plans):
        app.include_router(module.router)
    for module in (jobs_routes, webhooks, fhir, cloud_sync):
        app.include_router(module.router)
    app.webhooks.include_router(webhooks.events)
    return app
