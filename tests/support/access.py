"""Builders for access-control tests: therapist and app accounts, grants, tokens."""

from __future__ import annotations

import datetime as dt

from service.access import auth
from service.access.repository import accounts, grants
from service.core.db.rls import system_connection


def account_token(pool, role: str, name: str | None = None) -> tuple[str, str]:
    """A new therapist/app/admin account and a token for it: (account id, token)."""
    with system_connection(pool) as conn:
        account = accounts.create(conn, role=role, name=name or f"test {role}")
        token, _ = auth.issue_token(conn, account_id=str(account["id"]))
        return str(account["id"]), token


def grant(
    pool, person_id: str, grantee_id: str, scopes: list[str], expires_at: dt.datetime | None = None
) -> int:
    """An active grant, as if the patient had created it."""
    with system_connection(pool) as conn:
        row = grants.create(
            conn,
            person_id=person_id,
            grantee_id=grantee_id,
            scopes=scopes,
            status="active",
            requested_by=grantee_id,
            expires_at=expires_at,
            note=None,
        )
        return row["id"]


def revoke(pool, grant_id: int) -> None:
    with system_connection(pool) as conn:
        grants.revoke(conn, grant_id)
