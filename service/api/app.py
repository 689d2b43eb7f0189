"""The FastAPI application."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import ConnectionPool

from .. import __version__, web  # web: the web app hook
from ..config import Settings, get_settings
from ..db import connect, migrate
from ..jobs import runtime
from . import middleware, problems
from .routes import (
    analysis,
    audit,
    fhir,
    grants,
    health,
    imports,
    lab_results,
    observations,
    persons,
    privacy,
    self_reports,
    sessions,
    tokens,
    webhooks,
)
from .routes import jobs as jobs_routes

DESCRIPTION = """What a massage session does to a person's body, measured by the wearable they
already wear. Authenticate with `Authorization: Bearer <token>`; errors are RFC 9457
problem documents; lists use cursor pagination."""


def create_app(settings: Settings | None = None, pool: ConnectionPool | None = None, *,
               background: bool = False) -> FastAPI:
    """The API. Without a pool, one is opened (and migrations applied) at startup.

    With ``background`` the process also runs a scheduler candidate and one job
    worker (``vagus serve``, the single-machine default).
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own_pool = pool is None
        if own_pool:
            url = connect.database_url(settings)
            migrate.upgrade(url, settings.migrations_dir)
            app.state.pool = connect.create_pool(url, settings.pool_size)
        jobs = (runtime.start(app.state.pool, settings, connect.database_url(settings))
                if background else None)
        try:
            yield
        finally:
            if jobs is not None:
                jobs.stop()
            if own_pool:
                app.state.pool.close()

    # Web app hook: docs_url/redoc_url off (FastAPI's load from a CDN); web.install serves
    # the pages, their static files and local /docs and /redoc (service/web/).
    app = FastAPI(title="Vagus", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    web.install(app)
    app.state.settings = settings
    if pool is not None:
        app.state.pool = pool
    problems.install(app)
    middleware.install(app, settings)
    for module in (grants, tokens, audit, privacy):
        app.include_router(module.router)
    for module in (health, persons, imports, observations, analysis):
        app.include_router(module.router)
    for module in (sessions, self_reports, lab_results):
        app.include_router(module.router)
    for module in (jobs_routes, webhooks, fhir):
        app.include_router(module.router)
    return app
