"""Lab results: cortisol in the unit reported, and in nmol/L."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from service.access import authz
from service.care import service as care
from service.care.repository import lab_results
from service.core.units import ANALYTES
from service.care.http import (
    CursorQuery,
    FromQuery,
    LimitQuery,
    ReadablePerson,
    RowIdPath,
    ToQuery,
    WritablePerson,
    care_problem,
    next_cursor,
    owned_or_404,
    page_after,
    time_range,
)
from service.access.deps import Caller, Db
from service.core.http.problems import PROBLEM_RESPONSES
from service.care.schemas import LabResult, LabResultCreate, LabResultPage, RowId

router = APIRouter(tags=["lab-results"], responses=PROBLEM_RESPONSES)


@router.post("/v1/persons/{person_id}/lab-results", response_model=LabResult, status_code=201)
def create_lab_result(person: WritablePerson, body: LabResultCreate, conn: Db) -> LabResult:
    """Record a cortisol result; the value is also stored converted to nmol/L."""
    try:
        return LabResult(**care.add_lab(conn, person, body))
    except care.CareError as exc:
        care_problem(exc)


@router.get("/v1/persons/{person_id}/lab-results", response_model=LabResultPage)
def list_lab_results(person: ReadablePerson, conn: Db, from_: FromQuery = None,
                     to: ToQuery = None,
                     analyte: Literal[ANALYTES] | None = None,  # type: ignore[valid-type]
                     session_id: RowId | None = None, limit: LimitQuery = 100,
                     cursor_: CursorQuery = None) -> LabResultPage:
    """Results sampled in [from, to), oldest first."""
    start, end = time_range(person, from_, to)
    rows = lab_results.page(conn, person_id=str(person["id"]), start=start, end=end,
                            analyte=analyte, session_id=session_id, limit=limit,
                            after=page_after(cursor_))
    return LabResultPage(items=[LabResult(**care.lab_out(r, person["tz"])) for r in rows],
                         next_cursor=next_cursor(rows, limit, "ts"))


def _result_and_person(conn, caller, result_id: int, scope: str
                       ) -> tuple[dict[str, Any], dict[str, Any]]:
    row = lab_results.get(conn, result_id)
    return owned_or_404(conn, caller, row, f"lab result {result_id}", scope)


@router.get("/v1/lab-results/{result_id}", response_model=LabResult)
def get_lab_result(result_id: RowIdPath, conn: Db, caller: Caller) -> LabResult:
    """One lab result."""
    row, person = _result_and_person(conn, caller, result_id, authz.READ_SESSIONS)
    return LabResult(**care.lab_out(row, person["tz"]))


@router.delete("/v1/lab-results/{result_id}", response_model=LabResult)
def delete_lab_result(result_id: RowIdPath, conn: Db, caller: Caller) -> LabResult:
    """Delete a lab result and return it."""
    row, person = _result_and_person(conn, caller, result_id, authz.WRITE_SESSIONS)
    lab_results.delete(conn, result_id)
    return LabResult(**care.lab_out(row, person["tz"]))
