"""Unknown query parameters are refused, not ignored.

A misspelt or unsupported filter (``?source_id=18`` where no such filter exists) used to
return everything, which reads as if the filter had worked. This app-wide dependency
compares the request's query keys with the parameters its route declares (its own and
those of its dependencies) and answers 422 naming the strangers.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from service.core.http.problems import ProblemError

_declared_cache: dict[int, frozenset[str]] = {}


def declared_query(dependant: Dependant) -> frozenset[str]:
    """Every query parameter name (by alias) a route's dependency tree declares."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= declared_query(sub)
    return frozenset(names)


#: Vendor-facing endpoints: an OAuth redirect and a push notification carry whatever
#: parameters the vendor adds (``scope``, a verification challenge), which are not ours to refuse.
VENDOR_FACING = ("/v1/sync/callback", "/v1/sync/push/")


def refuse_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    path = request.url.path
    if not isinstance(route, APIRoute) or not path.startswith("/v1/") or path.startswith(VENDOR_FACING):
        return
    known = _declared_cache.get(id(route))
    if known is None:
        known = _declared_cache[id(route)] = declared_query(route.dependant)
    unknown = sorted({key for key in request.query_params if key not in known})
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise ProblemError(
            422,
            "unknown-query-parameter",
            f"unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)} "
            f"(this operation accepts: {allowed})",
            errors=[
                {"loc": ["query", name], "msg": "unknown query parameter", "type": "unknown_parameter"}
                for name in unknown
            ],
        )
