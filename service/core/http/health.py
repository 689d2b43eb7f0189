"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Literal

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel

from service.core.db import migrate

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    database: Literal["ok", "unreachable"]
    migrations: Literal["current", "pending", "unknown"]
    tier: str | None = None
    detail: str | None = None


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up (says nothing about the database)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(request: Request):
    """Ready to serve: the database answers and every migration is applied."""
    pool = request.app.state.pool
    settings = request.app.state.settings
    try:
        with pool.connection(timeout=3) as conn:
            conn.autocommit = True
            status = migrate.status_on(conn, settings.migrations_dir)
    except (PoolTimeout, psycopg.Error) as exc:
        body = Readiness(
            status="unavailable", database="unreachable", migrations="unknown", detail=type(exc).__name__
        )
        return JSONResponse(body.model_dump(), status_code=503)
    if status.pending:
        body = Readiness(
            status="unavailable",
            database="ok",
            migrations="pending",
            tier=status.tier,
            detail=f"pending: {', '.join(status.pending)}",
        )
        return JSONResponse(body.model_dump(), status_code=503)
    return Readiness(status="ready", database="ok", migrations="current", tier=status.tier)
