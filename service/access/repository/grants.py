"""Consent grants: which therapist or app account may do what with a person's data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.core.db.types import Conn, returned

COLUMNS = """g.id, g.person_id, g.grantee_id, a.role::text AS grantee_role, a.name AS grantee_name,
             g.scopes, g.status, g.note, g.requested_by, g.created_at, g.approved_at,
             g.expires_at, g.revoked_at,
             (g.status = 'active' AND (g.expires_at IS NULL OR g.expires_at > now())) AS live,
             p.name AS person_name"""
# The person's name comes through row-level security: a grantee sees it only while its
# grant is live (a pending request or a revoked grant shows null).
_FROM = "FROM consent_grant g JOIN account a ON a.id = g.grantee_id LEFT JOIN person p ON p.id = g.person_id"


def live_scopes(conn: Conn, *, person_id: str, grantee_id: str) -> set[str] | None:
    """Scopes of the grantee's active, unexpired grant on the person; None without one."""
    row = conn.execute(
        """SELECT scopes FROM consent_grant
           WHERE person_id = %s AND grantee_id = %s AND status = 'active'
             AND (expires_at IS NULL OR expires_at > now())""",
        (person_id, grantee_id),
    ).fetchone()
    return set(row["scopes"]) if row else None


def create(
    conn: Conn,
    *,
    person_id: str,
    grantee_id: str,
    scopes: list[str],
    status: str,
    requested_by: str | None,
    expires_at: dt.datetime | None,
    note: str | None,
) -> dict[str, Any]:
    row = returned(
        conn.execute(
            """INSERT INTO consent_grant (person_id, grantee_id, scopes, status, requested_by,
                                      expires_at, note, approved_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, CASE WHEN %s = 'active' THEN now() END)
           RETURNING id""",
            (person_id, grantee_id, sorted(set(scopes)), status, requested_by, expires_at, note, status),
        ).fetchone()
    )
    return returned(get(conn, row["id"]))


def get(conn: Conn, grant_id: int) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {COLUMNS} {_FROM} WHERE g.id = %s", (grant_id,)).fetchone()


def open_for(conn: Conn, *, person_id: str, grantee_id: str) -> dict[str, Any] | None:
    """The pending or active grant of this grantee on this person, if any."""
    return conn.execute(
        f"SELECT {COLUMNS} {_FROM} WHERE g.person_id = %s AND g.grantee_id = %s "
        "AND g.status IN ('pending', 'active')",
        (person_id, grantee_id),
    ).fetchone()


def list_for_person(conn: Conn, person_id: str, status: str | None = None) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {COLUMNS} {_FROM} WHERE g.person_id = %s AND (%s::text IS NULL OR g.status = %s) "
        "ORDER BY g.id DESC",
        (person_id, status, status),
    ).fetchall()


def list_for_grantee(conn: Conn, grantee_id: str, status: str | None = None) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {COLUMNS} {_FROM} WHERE g.grantee_id = %s AND (%s::text IS NULL OR g.status = %s) "
        "ORDER BY g.id DESC",
        (grantee_id, status, status),
    ).fetchall()


def approve(conn: Conn, grant_id: int, *, expires_at: dt.datetime | None) -> dict[str, Any] | None:
    row = conn.execute(
        """UPDATE consent_grant SET status = 'active', approved_at = now(),
                  expires_at = coalesce(%s, expires_at)
           WHERE id = %s AND status = 'pending' RETURNING id""",
        (expires_at, grant_id),
    ).fetchone()
    return get(conn, row["id"]) if row else None


def revoke(conn: Conn, grant_id: int) -> dict[str, Any] | None:
    """Revoke an active grant or decline a pending request; effective from the next statement."""
    row = conn.execute(
        """UPDATE consent_grant
           SET status = CASE status WHEN 'pending' THEN 'declined' ELSE 'revoked' END,
               revoked_at = now()
           WHERE id = %s AND status IN ('pending', 'active') RETURNING id""",
        (grant_id,),
    ).fetchone()
    return get(conn, row["id"]) if row else None


def list_all(
    conn: Conn, *, person_id: str | None = None, grantee_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Grants visible to the connection, optionally of one person and/or one grantee."""
    return conn.execute(
        f"SELECT {COLUMNS} {_FROM} WHERE (%(p)s::uuid IS NULL OR g.person_id = %(p)s::uuid) "
        "AND (%(g)s::uuid IS NULL OR g.grantee_id = %(g)s::uuid) "
        "AND (%(s)s::text IS NULL OR g.status = %(s)s) ORDER BY g.id DESC",
        {"p": person_id, "g": grantee_id, "s": status},
    ).fetchall()
