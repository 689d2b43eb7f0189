"""Lab results: cortisol in the unit reported, and in nmol/L."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from service.access import authz
from service.access.deps import Caller, Db
from service.care import http
from service.care import service as care
from service.care.repository import lab_results
from service.care.schemas import LabResult, LabResultCreate, LabResultPage, RowId
from service.core.http.problems import PROBLEM_RESPONSES
from service.core.units import ANALYTES

router = APIRouter(tags=["lab-results"], responses=PROBLEM_RESPONSES)


@router.post("/v1/persons/{person_id}/lab-results", response_model=LabResult, status_code=201)
def create_lab_result(person: http.WritablePerson, body: LabResultCreate, conn: Db) -> LabResult:
    """Record a cortisol result; the value is also stored converted to nmol/L."""
    try:
        return LabResult(**care.add_lab(conn, person, body))
    except care.CareError as exc:
        http.care_problem(exc)


@router.get("/v1/persons/{person_id}/lab-results", response_model=LabResultPage)
def list_lab_results(
    person: http.ReadablePerson,
    conn: Db,
    from_: http.FromQuery = None,
    to: http.ToQuery = None,
    analyte: Literal[ANALYTES] | None = None,  # type: ignore[valid-type]
    session_id: RowId | None = None,
    limit: http.LimitQuery = 100,
    cursor_: http.CursorQuery = None,
) -> LabResultPage:
    """Results sampled in [from, to), oldest first."""
    start, end = http.time_range(person, from_, to)
    rows = lab_results.page(
        conn,
        person_id=str(person["id"]),
        start=start,
        end=end,
        analyte=analyte,
        session_id=session_id,
        limit=limit,
        after=http.page_after(cursor_),
    )
    return LabResultPage(
        items=[LabResult(**care.lab_out(r, person["tz"])) for r in rows],
        next_cursor=http.next_cursor(rows, limit, "ts"),
    )


def _result_and_person(conn, caller, result_id: int, scope: str) -> tuple[dict[str, Any], dict[str, Any]]:
    row = lab_results.get(conn, result_id)
    return http.owned_or_404(conn, caller, row, f"lab result {result_id}", scope)


@router.get("/v1/lab-results/{result_id}", response_model=LabResult)
def get_lab_result(result_id: http.RowIdPath, conn: Db, caller: Caller) -> LabResult:
    """One lab result."""
    row, person = _result_and_person(conn, caller, result_id, authz.READ_SESSIONS)
    return LabResult(**care.lab_out(row, person["tz"]))


@router.delete("/v1/lab-results/{result_id}", response_model=LabResult)
def delete_lab_result(result_id: http.RowIdPath, conn: Db, caller: Caller) -> LabResult:
    """Delete a lab result and return it."""
    row, person = _result_and_person(conn, caller, result_id, authz.WRITE_SESSIONS)
    lab_results.delete(conn, result_id)
    return LabResult(**care.lab_out(row, person["tz"]))
