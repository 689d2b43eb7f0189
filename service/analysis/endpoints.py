"""HRV per window and daily recovery."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from service.access import authz
from service.access.deps import Caller, Db, get_settings, person_or_404, person_with
from service.access.repository import grants
from service.analysis import data as person_data
from service.analysis import recovery as recovery_analysis
from service.analysis import session_response as response_analysis
from service.analysis import windows
from service.analysis.schemas import (
    CohortEvidence,
    HRVResponse,
    PersonEvidence,
    RecoveryResponse,
    SessionResponse,
)
from service.care.repository import sessions
from service.core.http import timequery
from service.core.http.problems import PROBLEM_RESPONSES, ProblemError
from service.core.http.query import Day, Instant
from service.core.settings import Settings
from service.evidence import cohort as cohort_analysis
from service.evidence import person as evidence_analysis

router = APIRouter(tags=["analysis"], responses=PROBLEM_RESPONSES)

#: The path's person, checked for read:evidence before the query is validated.
EvidenceReader = Annotated[dict, person_with(authz.READ_EVIDENCE)]
AppSettings = Annotated[Settings, Depends(get_settings)]


def _windows(settings: Settings) -> response_analysis.WindowConfig:
    return response_analysis.WindowConfig.from_settings(settings)


MAX_RANGE = dt.timedelta(days=31)
MAX_WINDOWS = 5000
MAX_RECOVERY_DAYS = 366


@router.get("/v1/persons/{person_id}/hrv", response_model=HRVResponse, response_model_by_alias=True)
def hrv(
    person_id: UUID,
    conn: Db,
    person: EvidenceReader,
    from_: Annotated[
        Instant, Query(alias="from", description="ISO 8601; without an offset read in the person's zone")
    ],
    to: Annotated[Instant, Query(description="Exclusive; like `from`")],
    window: Annotated[
        int | None,
        Query(
            ge=60,
            le=86_400,
            description=("window length in seconds; omitted = one window over the whole range"),
        ),
    ] = None,
):
    """Quality-gated HRV, stress indices or the measures the data support, per window."""
    start, end = timequery.to_utc(from_, person["tz"], "from"), timequery.to_utc(to, person["tz"], "to")
    assert start is not None and end is not None  # both are required query parameters
    if end <= start:
        raise ProblemError(422, "validation-error", "to must be after from")
    if end - start > MAX_RANGE:
        raise ProblemError(422, "range-too-long", f"at most {MAX_RANGE.days} days per request")
    step = dt.timedelta(seconds=window) if window else end - start
    if (end - start) / step > MAX_WINDOWS:
        raise ProblemError(
            422, "too-many-windows", f"at most {MAX_WINDOWS} windows: use a longer window or a shorter range"
        )
    pdata = person_data.load(conn, str(person_id), start, end)
    results = []
    cursor = start
    while cursor + step <= end + dt.timedelta(microseconds=1):
        results.append(windows.analyze(pdata, cursor, min(cursor + step, end)))
        cursor += step
    return {"person_id": person_id, "from": start, "to": end, "window_s": window, "windows": results}


@router.get("/v1/persons/{person_id}/recovery", response_model=RecoveryResponse)
def recovery(
    person_id: UUID,
    conn: Db,
    person: EvidenceReader,
    from_: Annotated[Day, Query(alias="from", description="first local date")],
    to: Annotated[Day, Query(description="last local date (inclusive)")],
):
    """Daily lnRMSSD and resting HR against the person's 7-day baseline and 60-day normal range."""
    if to < from_:
        raise ProblemError(422, "validation-error", "to must not be before from")
    if (to - from_).days + 1 > MAX_RECOVERY_DAYS:
        raise ProblemError(422, "range-too-long", f"at most {MAX_RECOVERY_DAYS} days per request")
    days = recovery_analysis.recovery(conn, str(person_id), person["tz"], from_, to)
    return {"person_id": person_id, "days": days}


@router.get("/v1/sessions/{session_id}/response", response_model=SessionResponse)
def session_response(session_id: int, conn: Db, caller: Caller, settings: AppSettings):
    """Pre, post, change and control-adjusted change per metric; the night after; the next days."""
    session = sessions.get(conn, session_id)  # row-level security hides foreign sessions
    if session is None:
        raise ProblemError(404, "not-found", f"no session {session_id} visible to this token")
    person = person_or_404(conn, caller, str(session["person_id"]), authz.READ_EVIDENCE)
    return response_analysis.cached_session_response(conn, session, person["tz"], _windows(settings))


@router.get("/v1/persons/{person_id}/evidence", response_model=PersonEvidence)
def person_evidence(person_id: UUID, conn: Db, person: EvidenceReader, settings: AppSettings):
    """For each claim massage makes: this person's measured effect, verdict and the literature."""
    return evidence_analysis.person_evidence(conn, person, _windows(settings))


@router.get("/v1/cohorts/evidence", response_model=CohortEvidence)
def cohort_evidence(
    conn: Db,
    caller: Caller,
    settings: AppSettings,
    modality: Annotated[str | None, Query(description="only sessions of this modality")] = None,
    pressure: Annotated[Literal["light", "moderate", "deep"] | None, Query()] = None,
):
    """A therapist's consenting clients pooled (random effects); breakdowns are exploratory."""
    if caller.role != "therapist":
        raise ProblemError(403, "forbidden", "cohort evidence is for therapist accounts")
    clients = []
    for grant in grants.list_for_grantee(conn, caller.account_id, status="active"):
        if grant["live"] and authz.READ_EVIDENCE in grant["scopes"]:
            clients.append(person_or_404(conn, caller, str(grant["person_id"]), authz.READ_EVIDENCE))
    return cohort_analysis.cohort_evidence(
        conn, clients, modality=modality, pressure=pressure, cfg=_windows(settings)
    )
