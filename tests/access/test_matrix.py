"""The authorization matrix, generated from the OpenAPI document.

Every operation is either person-scoped (its path names a person, or a row that
belongs to one) and then called by every kind of caller against one person, or
listed in NOT_PERSON_SCOPED with the reason. A new endpoint that is in neither
fails ``test_every_operation_is_classified``: nothing escapes the matrix.

A minimal valid request for each operation comes from schemathesis (the
smallest example Hypothesis finds), so a denial is the authorization at work,
not a validation error.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import hypothesis
import pytest
import schemathesis

from service.access import auth, authz
from service.access.repository import accounts, persons
from service.core.db import rls
from service.trials import service as trial_service
from service.trials.schemas import TrialPlanCreate
from tests.support.people import bearer

RP, RO, RE, RS = (authz.READ_PERSON, authz.READ_OBSERVATIONS, authz.READ_EVIDENCE, authz.READ_SESSIONS)
WS, WI = authz.WRITE_SESSIONS, authz.WRITE_IMPORTS

#: Scopes each person-scoped operation needs (all of them).
REQUIRED: dict[tuple[str, str], set[str]] = {
    ("GET", "/v1/persons/{person_id}"): {RP},
    ("PATCH", "/v1/persons/{person_id}"): {authz.EDIT_PERSON},
    ("GET", "/v1/persons/{person_id}/session-responses"): {RS, RE},
    ("DELETE", "/v1/persons/{person_id}"): {authz.ERASE},
    ("GET", "/v1/persons/{person_id}/export"): {authz.EXPORT},
    ("GET", "/v1/persons/{person_id}/audit"): {authz.READ_AUDIT},
    ("GET", "/v1/persons/{person_id}/grants"): {authz.MANAGE_GRANTS},
    ("POST", "/v1/persons/{person_id}/grants"): {authz.MANAGE_GRANTS},
    ("DELETE", "/v1/persons/{person_id}/grants/{grant_id}"): {authz.MANAGE_GRANTS},
    ("POST", "/v1/persons/{person_id}/grants/{grant_id}/approve"): {authz.MANAGE_GRANTS},
    ("GET", "/v1/persons/{person_id}/observations"): {RO},
    ("GET", "/v1/persons/{person_id}/imports"): {RO},
    ("POST", "/v1/persons/{person_id}/imports"): {WI},
    ("GET", "/v1/imports/{import_id}"): {RO},
    ("GET", "/v1/persons/{person_id}/fhir"): {RO},
    ("GET", "/v1/persons/{person_id}/hrv"): {RE},
    ("GET", "/v1/persons/{person_id}/recovery"): {RE},
    ("GET", "/v1/persons/{person_id}/evidence"): {RE},
    ("GET", "/v1/sessions/{session_id}/response"): {RE},
    ("GET", "/v1/persons/{person_id}/sessions"): {RS},
    ("POST", "/v1/persons/{person_id}/sessions"): {WS},
    ("GET", "/v1/sessions/{session_id}"): {RS},
    ("PATCH", "/v1/sessions/{session_id}"): {WS},
    ("DELETE", "/v1/sessions/{session_id}"): {WS},
    ("GET", "/v1/persons/{person_id}/self-reports"): {RS},
    ("POST", "/v1/persons/{person_id}/self-reports"): {WS},
    ("GET", "/v1/self-reports/{report_id}"): {RS},
    ("DELETE", "/v1/self-reports/{report_id}"): {WS},
    ("GET", "/v1/persons/{person_id}/lab-results"): {RS},
    ("POST", "/v1/persons/{person_id}/lab-results"): {WS},
    ("GET", "/v1/lab-results/{result_id}"): {RS},
    ("DELETE", "/v1/lab-results/{result_id}"): {WS},
    ("GET", "/v1/persons/{person_id}/trial-plans"): {RS},
    ("POST", "/v1/persons/{person_id}/trial-plans"): {WS},
    ("GET", "/v1/trial-plans/{plan_id}"): {RS},
    ("POST", "/v1/persons/{person_id}/connections"): {authz.MANAGE_GRANTS},
    ("GET", "/v1/persons/{person_id}/connections"): {RO},
    ("DELETE", "/v1/persons/{person_id}/connections/{provider}"): {authz.MANAGE_GRANTS},
    ("POST", "/v1/persons/{person_id}/connections/{provider}/sync"): {WI},
}

#: Operations that name no person, and why they are safe without the matrix.
NOT_PERSON_SCOPED: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "public liveness probe, no data",
    ("GET", "/readyz"): "public readiness probe, no data",
    ("GET", "/v1/me"): "the caller's own account",
    ("GET", "/v1/grants"): "the caller's own grants (row-level security: grantee = caller)",
    ("POST", "/v1/access-requests"): "files a pending request; grants nothing (test_consent)",
    ("GET", "/v1/tokens"): "the caller's own tokens",
    ("POST", "/v1/tokens/{token_id}/rotate"): "the caller's own tokens (test_consent)",
    ("DELETE", "/v1/tokens/{token_id}"): "the caller's own tokens (test_consent)",
    ("GET", "/v1/persons"): "admin only: test_admin_only_operations",
    ("GET", "/v1/clients"): "the caller's own clients: persons with a live grant to it, each "
    "figure gated by the grant's scopes (tests/clients)",
    ("POST", "/v1/persons"): "admin only: test_admin_only_operations",
    ("GET", "/v1/jobs"): "admin only: test_admin_only_operations",
    ("GET", "/v1/jobs/{job_id}"): "admin only: test_admin_only_operations",
    ("POST", "/v1/jobs/{job_id}/retry"): "admin only: test_admin_only_operations",
    ("GET", "/v1/cohorts/evidence"): "pools only persons whose grant holds read:evidence, "
    "each through authz.require",
    ("GET", "/v1/webhooks"): "the caller's own subscriptions",
    ("POST", "/v1/webhooks"): "subscribing to a person goes through authz.require",
    ("DELETE", "/v1/webhooks/{subscription_id}"): "the caller's own subscriptions",
    ("GET", "/v1/webhooks/{subscription_id}/deliveries"): "the caller's own subscriptions",
    ("GET", "/v1/sync/callback"): "the vendor's redirect: its one-use, short-lived state names "
    "the person who started the connection (tests/sync)",
    ("GET", "/v1/sync/push/{provider}"): "a vendor confirming its push subscription with the "
    "operator's verification token; no data",
    ("POST", "/v1/sync/push/{provider}"): "a vendor's signed notification; only queues a sync "
    "(tests/sync: a bad signature is refused)",
}

#: Path parameters that stand for a row belonging to the person (created in the world).
ROW_PARAMS = ("import_id", "session_id", "report_id", "result_id", "grant_id", "plan_id")


def _operations(app) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops]


def test_every_operation_is_classified(app):
    unknown = [op for op in _operations(app) if op not in REQUIRED and op not in NOT_PERSON_SCOPED]
    assert not unknown, (
        f"{unknown}: add each to REQUIRED (person-scoped, with its scopes) "
        "or NOT_PERSON_SCOPED (with the reason) in tests/access/test_matrix.py"
    )
    stale = [op for op in [*REQUIRED, *NOT_PERSON_SCOPED] if op not in _operations(app)]
    assert not stale, f"{stale} no longer exist: remove them from the matrix"


@dataclass
class World:
    """One person and every kind of caller, each with the relationship its name says."""

    person: str
    rows: dict[str, int]
    callers: dict[str, dict[str, str]]


#: For each caller: the scopes it holds on the person (None: no access at all).
CALLERS: dict[str, set[str] | None] = {
    "patient": set(authz.SCOPES),
    "admin": set(authz.SCOPES),
    "other_patient": None,
    "therapist_without_consent": None,
    "therapist_observations": {RP, RO},
    "therapist_full": {RP, *authz.GRANTABLE_SCOPES},
    "app_imports": {RP, WI},
    "therapist_revoked": None,
    "therapist_expired": None,
    "therapist_pending": None,
}


def _world(pool) -> World:
    """Built in one system transaction: the matrix builds many of these."""
    expired = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    relations: dict[str, tuple[str, list[str] | None, dt.datetime | None]] = {
        # name: (grant status, scopes, expiry)
        "therapist_without_consent": ("none", None, None),
        "therapist_observations": ("active", [RO], None),
        "therapist_full": ("active", list(authz.GRANTABLE_SCOPES), None),
        "app_imports": ("active", [WI], None),
        "therapist_revoked": ("revoked", list(authz.GRANTABLE_SCOPES), None),
        "therapist_expired": ("active", list(authz.GRANTABLE_SCOPES), expired),
        "therapist_pending": ("pending", list(authz.GRANTABLE_SCOPES), None),
    }
    with rls.system_connection(pool) as conn:
        person = str(persons.create(conn, name="Matrix subject", tz="UTC")["id"])
        other = str(persons.create(conn, name="Matrix bystander", tz="UTC")["id"])

        def token_for(account: dict) -> dict[str, str]:
            return bearer(auth.issue_token(conn, account_id=str(account["id"]))[0])

        callers = {
            "patient": token_for(accounts.patient_account(conn, person)),
            "admin": token_for(accounts.create(conn, role="admin", name="matrix")),
            "other_patient": token_for(accounts.patient_account(conn, other)),
        }
        for name, (status, scopes, expires) in relations.items():
            role = "app" if name.startswith("app") else "therapist"
            account = accounts.create(conn, role=role, name=name)
            callers[name] = token_for(account)
            if scopes is not None:
                conn.execute(
                    "INSERT INTO consent_grant (person_id, grantee_id, scopes, status, "
                    "expires_at) VALUES (%s, %s, %s, %s, %s)",
                    (person, account["id"], scopes, status, expires),
                )
        rows = {
            "import_id": conn.execute(
                "INSERT INTO import (person_id, file_name) VALUES (%s, 'm.txt') RETURNING id", (person,)
            ).fetchone()["id"],
            "session_id": conn.execute(
                "INSERT INTO session (person_id, starts_at, ends_at, modality) VALUES "
                "(%s, '2024-05-04T15:00Z', '2024-05-04T16:00Z', 'swedish') RETURNING id",
                (person,),
            ).fetchone()["id"],
            "report_id": conn.execute(
                "INSERT INTO self_report (person_id, ts, kind, value) VALUES "
                "(%s, '2024-05-04T16:05Z', 'pain', 3) RETURNING id",
                (person,),
            ).fetchone()["id"],
            "result_id": conn.execute(
                "INSERT INTO lab_result (person_id, ts, analyte, value, unit, value_nmol_l) "
                "VALUES (%s, '2024-05-04T16:10Z', 'cortisol', 10, 'nmol/L', 10) RETURNING id",
                (person,),
            ).fetchone()["id"],
            "plan_id": trial_service.create_plan(
                conn, {"id": person, "tz": "UTC"}, TrialPlanCreate(weeks=1, per_week=2, seed=1)
            )["plan_id"],
            # The pending request: approvable and revocable.
            "grant_id": conn.execute(
                "SELECT id FROM consent_grant WHERE person_id = %s AND status = 'pending'", (person,)
            ).fetchone()["id"],
        }
    return World(person, rows, callers)


@pytest.fixture(scope="module")
def openapi(app):
    return schemathesis.openapi.from_dict(app.openapi())


def _minimal_case(openapi, method: str, path: str):
    operation = openapi[path][method].ok() if hasattr(openapi[path][method], "ok") else openapi[path][method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The first example of a derandomized run: valid, deterministic, no slow shrinking.
        return hypothesis.find(
            operation.as_strategy(),
            lambda case: True,
            settings=hypothesis.settings(
                database=None, derandomize=True, deadline=None, phases=[hypothesis.Phase.generate]
            ),
        )


def _call(client, case, world: World, headers: dict[str, str]):
    path = case.path
    params = dict(case.path_parameters or {})
    if "person_id" in params:
        params["person_id"] = world.person
    for name in ROW_PARAMS:
        if name in params:
            params[name] = world.rows[name]
    url = path.format(**params)
    kwargs: dict = {"params": case.query or {}, "headers": {**headers}}
    body = case.body
    if not isinstance(body, schemathesis.core.NotSet) and body is not None:
        if case.media_type == "application/json":
            kwargs["json"] = body
        else:
            kwargs["content"] = body if isinstance(body, bytes) else str(body).encode()
            kwargs["headers"]["Content-Type"] = case.media_type
    return client.request(case.method, url, **kwargs)


@pytest.mark.parametrize("operation", sorted(REQUIRED), ids=lambda op: f"{op[0]} {op[1]}")
def test_matrix(operation, client, pool, openapi):
    method, path = operation
    needed = REQUIRED[operation]
    case = _minimal_case(openapi, method, path)
    order = sorted(CALLERS, key=lambda name: CALLERS[name] == set(authz.SCOPES))
    world = _world(pool)
    for name in order:
        response = _call(client, case, world, world.callers[name])
        held = CALLERS[name]
        where = (name, method, path, response.status_code, response.text[:200])
        assert response.status_code < 500, where
        if held is None:
            # Not found, whether the path names the person or one of its rows.
            assert response.status_code == 404, where
            assert "Matrix subject" not in response.text, where
        elif needed <= held:
            assert response.status_code not in (401, 403, 404), where
        else:
            assert response.status_code == 403, where
        if method != "GET" and response.is_success:
            world = _world(pool)  # a write that worked must not change the next caller's case


def test_admin_only_operations(client, pool, openapi):
    admin_only = [op for op, why in NOT_PERSON_SCOPED.items() if why.startswith("admin only")]
    world = _world(pool)
    for method, path in admin_only:
        case = _minimal_case(openapi, method, path)
        for name in CALLERS:
            response = _call(client, case, world, world.callers[name])
            if name == "admin":
                assert response.status_code not in (401, 403), (method, path)
            else:
                assert response.status_code == 403, (name, method, path, response.status_code)
