"""Trial plans of a person: make one, list them, read one with its adherence.

Authorised like sessions: a plan is a schedule of sessions, so making one needs
`write:sessions` and reading needs `read:sessions` on the person. Its power may rest
on the person's own measurements; those enter (and a power computed from them is
shown) only for a caller that also holds `read:evidence`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from service.access import authz
from service.access.deps import Caller, Db
from service.care import http
from service.core.http.problems import PROBLEM_RESPONSES, ProblemError
from service.trials import repository
from service.trials import service as trials
from service.trials.schemas import TrialPlan, TrialPlanCreate, TrialPlanPage, TrialPlanSummary

router = APIRouter(tags=["trials"], responses=PROBLEM_RESPONSES)
PlanIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _reads_evidence(conn: Db, caller: Caller, person_id: str) -> bool:
    """Whether the caller may see what is derived from the person's measurements."""
    return authz.READ_EVIDENCE in (authz.scopes_on(conn, caller, person_id) or set())


def _shown(conn: Db, caller: Caller, plan: dict[str, Any]) -> dict[str, Any]:
    if _reads_evidence(conn, caller, str(plan["person_id"])):
        return plan
    return trials.without_personal_power(plan)


def _plan_to_read(plan_id: PlanIdPath, conn: Db, caller: Caller) -> tuple[dict[str, Any], dict[str, Any]]:
    return http.owned_or_404(
        conn, caller, repository.get(conn, plan_id), f"trial plan {plan_id}", authz.READ_SESSIONS
    )


PlanToRead = Annotated[tuple[dict[str, Any], dict[str, Any]], Depends(_plan_to_read)]


@router.post("/v1/persons/{person_id}/trial-plans", response_model=TrialPlan, status_code=201)
def create_trial_plan(
    person: http.WritablePerson, body: TrialPlanCreate, conn: Db, caller: Caller
) -> TrialPlan:
    """Draw and store a randomised, weekday-balanced n-of-1 schedule of massage and rest
    sessions, with the power it has to detect the stated massage-vs-rest difference. The
    person's own variability is used only for a caller holding `read:evidence`."""
    try:
        return TrialPlan(
            **trials.create_plan(
                conn, person, body, may_read_measurements=_reads_evidence(conn, caller, str(person["id"]))
            )
        )
    except trials.TrialError as exc:
        raise ProblemError(
            422,
            "validation-error",
            f"{exc.field}: {exc.message}",
            errors=[{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}],
        ) from None


@router.get("/v1/persons/{person_id}/trial-plans", response_model=TrialPlanPage)
def list_trial_plans(
    person: http.ReadablePerson,
    conn: Db,
    caller: Caller,
    limit: http.LimitQuery = 100,
    cursor_: http.CursorQuery = None,
) -> TrialPlanPage:
    """The person's plans, oldest first (without their sessions)."""
    rows = repository.page(conn, person_id=str(person["id"]), limit=limit, after=http.page_after(cursor_))
    return TrialPlanPage(
        items=[TrialPlanSummary(**trials.plan_summary(_shown(conn, caller, r))) for r in rows],
        next_cursor=http.next_cursor(rows, limit, "created_at"),
    )


@router.get("/v1/trial-plans/{plan_id}", response_model=TrialPlan)
def get_trial_plan(found: PlanToRead, conn: Db, caller: Caller) -> TrialPlan:
    """One plan with its sessions and its adherence so far (planned vs logged). A power
    computed from the person's measurements is shown only with `read:evidence`."""
    plan, _person = found
    return TrialPlan(**trials.show_plan(conn, _shown(conn, caller, plan)))
