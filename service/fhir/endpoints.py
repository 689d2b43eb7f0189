"""FHIR R4 export of a person's samples (see ``service.fhir`` for codes and paging)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from service.access import authz
from service.access.deps import Caller, Db, person_or_404
from service.analysis import repository as responses
from service.care.repository import sessions as session_repo
from service.core.http import cursor
from service.core.http.problems import PROBLEM_RESPONSES
from service.fhir import service as fhir
from service.observations import repository as observations
from service.observations.schemas import MetricName
from signal_processing import response as sp_response

router = APIRouter(tags=["fhir"], responses=PROBLEM_RESPONSES)
FHIR_JSON = "application/fhir+json"


@router.get(
    "/v1/persons/{person_id}/fhir",
    response_class=JSONResponse,
    responses={
        200: {
            "description": "A FHIR R4 Bundle (searchset) of Observations with their Patient and Devices.",
            "content": {FHIR_JSON: {"schema": {"type": "object"}}},
        }
    },
)
def export_fhir(
    person_id: UUID,
    request: Request,
    conn: Db,
    caller: Caller,
    metric: Annotated[
        list[MetricName] | None,
        Query(description="Metrics to export (repeatable). Default: all but rr_interval."),
    ] = None,
    from_: Annotated[dt.datetime | None, Query(alias="from")] = None,
    to: Annotated[dt.datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    cursor_: Annotated[str | None, Query(alias="cursor")] = None,
    sessions: Annotated[
        bool,
        Query(
            description="Also the massage sessions starting in the range, as Procedures, with "
            "their stored responses as Observations (first page only)."
        ),
    ] = False,
) -> JSONResponse:
    """A page of the person's samples as FHIR R4 Observations (LOINC codes, UCUM units)."""
    person = person_or_404(conn, caller, str(person_id), authz.READ_OBSERVATIONS)
    metrics = [m for m in fhir.CODES if m in set(metric)] if metric else list(fhir.DEFAULT_METRICS)
    after = _decode(cursor_)
    samples: list[dict[str, Any]] = []
    first = metrics.index(after[0]) if after is not None and after[0] in metrics else 0
    for name in metrics[first:]:
        key = after if after is not None and after[0] == name else None
        samples += observations.page(
            conn,
            person_id=str(person_id),
            metric=name,
            start=from_,
            end=to,
            limit=limit - len(samples) + 1,
            after=key,
        )
        if len(samples) > limit:
            break
    # Links name the configured public URL, never the request's Host header (which the
    # client chooses): a Bundle's links are followed by other systems.
    base = request.app.state.settings.base_url.rstrip("/")
    next_url = None
    if len(samples) > limit:
        samples = samples[:limit]
        last = samples[-1]
        token = cursor.encode([last["metric"], last["source_id"], last["ts"].isoformat()])
        query = request.url.include_query_params(cursor=token).query
        next_url = f"{base}{request.url.path}?{query}"
    sources = observations.sources(conn, str(person_id))
    body = fhir.bundle(base, person, sources, samples, next_url)
    if sessions and cursor_ is None:
        fhir.add_entries(body, base, _session_resources(conn, caller, str(person_id), from_, to))
    return JSONResponse(body, media_type=FHIR_JSON)


def _session_resources(
    conn, caller, person_id: str, start: dt.datetime | None, end: dt.datetime | None
) -> list[dict[str, Any]]:
    """Procedures for the sessions, and Observations for the responses already computed."""
    person_or_404(conn, caller, person_id, authz.READ_SESSIONS)
    person_or_404(conn, caller, person_id, authz.READ_EVIDENCE)
    units = {name: spec.unit for name, spec in sp_response.METRICS.items()}
    found: list[dict[str, Any]] = []
    for session in session_repo.in_range(conn, person_id=person_id, start=start, end=end):
        found.append(fhir.procedure(person_id, session))
        stored = responses.get(conn, session["id"])
        if stored is not None:
            found += fhir.response_observations(person_id, session, stored["body"], units)
    return found


def _decode(token: str | None) -> tuple[str, int, dt.datetime] | None:
    if token is None:
        return None
    metric_, source, ts = cursor.decode(token, cursor.one_of(fhir.CODES), cursor.INT, cursor.TIME)
    return metric_, source, ts
