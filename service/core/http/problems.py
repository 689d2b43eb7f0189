"""Errors as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_TYPE_BASE = "https://vagus.dev/problems/"
log = logging.getLogger(__name__)


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


class ProblemError(Exception):
    """Raise from anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors  # per-field details, shaped like validation errors
        #: (person id, scope) of a refused access: audited after the request's rollback.
        self.denied: tuple[str | None, str] | None = None
        super().__init__(detail or slug)


def problem_response(
    request: Request,
    status: int,
    slug: str,
    detail: str | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=PROBLEM_TYPE_BASE + slug,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


#: Responses every endpoint may give, for the OpenAPI document.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "model": Problem,
        "content": {"application/problem+json": {}},
        "description": HTTPStatus(code).phrase,
    }
    for code in (400, 401, 403, 404, 413, 422, 503)
}
#: What a client is told to wait before retrying while the database is unreachable.
RETRY_AFTER_S = 5


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            request, exc.status, exc.slug, exc.detail, headers=exc.headers, errors=exc.errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
        return problem_response(
            request, exc.status_code, slug, str(exc.detail), headers=getattr(exc, "headers", None)
        )

    # The database is away or every connection is busy: a quick 503 the client may retry,
    # never a hang or a plain-text 500 (issue 16, defect 11).
    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(request: Request, exc: PoolTimeout) -> JSONResponse:
        return problem_response(
            request,
            503,
            "database-unavailable",
            "the database is busy or unreachable: retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    @app.exception_handler(psycopg.OperationalError)
    async def _db_lost(request: Request, exc: psycopg.OperationalError) -> JSONResponse:
        return problem_response(
            request,
            503,
            "database-unavailable",
            "the database connection was lost: retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    # A value the database refuses to store or compare (NUL in text, a number or date out
    # of range) that validation let through: the client's input, so 422, never a 500.
    @app.exception_handler(psycopg.DataError)
    async def _data(request: Request, exc: psycopg.DataError) -> JSONResponse:
        log.warning("%s %s: database refused a value: %s", request.method, request.url.path, exc)
        return problem_response(
            request,
            422,
            "validation-error",
            "a value in the request cannot be stored or compared (out of range, or a NUL character)",
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()
        ]
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
        return problem_response(request, 422, "validation-error", f"invalid request: {fields}", errors=errors)
