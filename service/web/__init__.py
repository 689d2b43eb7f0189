"""The web app: server-rendered pages for patients and therapists, served by the API process.

Pages are Jinja2 templates with a little JavaScript that reads and writes through
the JSON API (never the database), so a page can show only what the API allows
its caller. Sign-in keeps the API token in an HttpOnly cookie (see
:mod:`service.web.cookies`); every asset is local (``static/vendor`` lists the
vendored libraries, their versions and licences).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"


def install(app: FastAPI) -> None:
    """Mount the pages, their static files and the local API docs on ``app``.

    The app must be created with ``docs_url=None, redoc_url=None``: FastAPI's own
    docs pages load Swagger UI and ReDoc from a CDN.
    """
    from service.web import docs, pages

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(docs.router)
    app.include_router(pages.router)
