"""Swagger UI at /docs and ReDoc at /redoc, from the vendored copies (no CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.web.templating import templates

router = APIRouter(include_in_schema=False)

#: Swagger UI sets inline styles and ReDoc injects style elements and starts a blob worker;
#: scripts still come only from this origin.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    response = templates.TemplateResponse(request, "docs/swagger.html", {"title": "API reference"})
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    response = templates.TemplateResponse(request, "docs/redoc.html", {"title": "API reference"})
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response
