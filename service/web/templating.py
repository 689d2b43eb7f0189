"""The Jinja2 environment of the web app (autoescaping on; static URLs carry the version)."""

from __future__ import annotations

from fastapi.templating import Jinja2Templates

from service import __version__
from service.web import TEMPLATE_DIR

templates = Jinja2Templates(directory=TEMPLATE_DIR)


def static_url(path: str) -> str:
    """A static file's URL; the version query makes browsers refetch after an upgrade."""
    return f"/static/{path}?v={__version__}"


templates.env.globals["static"] = static_url
