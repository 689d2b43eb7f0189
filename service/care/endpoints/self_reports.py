"""Self-reported scores (pain, stress, anxiety, headache, sleep quality)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.access import authz
from service.access.deps import Caller, Db
from service.care import http
from service.care import service as care
from service.care.repository import self_reports
from service.care.schemas import ReportKind, RowId, SelfReport, SelfReportCreate, SelfReportPage
from service.core.http.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["self-reports"], responses=PROBLEM_RESPONSES)


@router.post("/v1/persons/{person_id}/self-reports", response_model=SelfReport, status_code=201)
def create_report(person: http.WritablePerson, body: SelfReportCreate, conn: Db) -> SelfReport:
    """Record one score, at any time or before/after one of the person's sessions."""
    try:
        return SelfReport(**care.add_report(conn, person, body))
    except care.CareError as exc:
        http.care_problem(exc)


@router.get("/v1/persons/{person_id}/self-reports", response_model=SelfReportPage)
def list_reports(
    person: http.ReadablePerson,
    conn: Db,
    from_: http.FromQuery = None,
    to: http.ToQuery = None,
    kind: ReportKind | None = None,
    session_id: RowId | None = None,
    limit: http.LimitQuery = 100,
    cursor_: http.CursorQuery = None,
) -> SelfReportPage:
    """Reports in [from, to), oldest first; optionally one kind or one session's."""
    start, end = http.time_range(person, from_, to)
    rows = self_reports.page(
        conn,
        person_id=str(person["id"]),
        start=start,
        end=end,
        kind=kind,
        session_id=session_id,
        limit=limit,
        after=http.page_after(cursor_),
    )
    return SelfReportPage(
        items=[SelfReport(**care.report_out(r, person["tz"])) for r in rows],
        next_cursor=http.next_cursor(rows, limit, "ts"),
    )


def _report_and_person(conn, caller, report_id: int, scope: str) -> tuple[dict[str, Any], dict[str, Any]]:
    row = self_reports.get(conn, report_id)
    return http.owned_or_404(conn, caller, row, f"self-report {report_id}", scope)


@router.get("/v1/self-reports/{report_id}", response_model=SelfReport)
def get_report(report_id: http.RowIdPath, conn: Db, caller: Caller) -> SelfReport:
    """One self-report."""
    row, person = _report_and_person(conn, caller, report_id, authz.READ_SESSIONS)
    return SelfReport(**care.report_out(row, person["tz"]))


@router.delete("/v1/self-reports/{report_id}", response_model=SelfReport)
def delete_report(report_id: http.RowIdPath, conn: Db, caller: Caller) -> SelfReport:
    """Delete a self-report and return it."""
    row, person = _report_and_person(conn, caller, report_id, authz.WRITE_SESSIONS)
    self_reports.delete(conn, report_id)
    return SelfReport(**care.report_out(row, person["tz"]))
