"""The OpenAPI document, finished: what FastAPI's generator leaves out or puts elsewhere.

- Error responses are problem documents: their schema is listed under
  ``application/problem+json`` only (FastAPI puts a ``model`` under ``application/json``).
- Every ``/v1`` operation may answer 429 (the rate limit, ``service.core.http.middleware``)
  with ``Retry-After``.
- The ``webhooks`` section lists the outgoing events; a subscriber answers any 2xx.
- ``201``/``202`` responses of operations that declare :data:`LOCATION` carry the header.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

#: ``responses={201: LOCATION}`` on a route that sets the ``Location`` header.
LOCATION: dict[str, Any] = {
    "headers": {
        "Location": {
            "description": "The created resource (or the import to follow)",
            "schema": {"type": "string", "format": "uri-reference"},
        }
    }
}

RATE_LIMITED: dict[str, Any] = {
    "description": "Too Many Requests: the token's request budget is spent",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before the next request",
            "schema": {"type": "integer"},
        }
    },
    "content": {PROBLEM: {"schema": PROBLEM_REF}},
}


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """Apply the rules above to a generated document (in place; returned for chaining)."""
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.get("responses", {})
            for response in responses.values():
                content = response.get("content", {})
                if PROBLEM in content and content.get("application/json", {}).get("schema") == PROBLEM_REF:
                    content[PROBLEM] = {"schema": PROBLEM_REF}
                    del content["application/json"]
            if path.startswith("/v1/"):
                responses.setdefault("429", RATE_LIMITED)
    for operations in document.get("webhooks", {}).values():
        for operation in operations.values():
            operation["responses"] = {
                "2XX": {"description": "Received: any 2xx answer; anything else is retried"}
            }
    # FastAPI's own validation-error schemas, left behind by the event documentation only.
    schemas = document.get("components", {}).get("schemas", {})
    if "#/components/schemas/HTTPValidationError" not in json.dumps(document.get("paths", {})):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


def install(app: FastAPI) -> None:
    """Serve the finished document at ``/openapi.json`` (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = finish(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    openapi_version=app.openapi_version,
                    description=app.description,
                    routes=app.routes,
                    webhooks=app.webhooks.routes,
                    tags=app.openapi_tags,
                    servers=app.servers,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
