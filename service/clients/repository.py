"""The client list's SQL: persons with a live grant to one account, with their latest activity."""

from __future__ import annotations

from typing import Any

from service.core.db.types import Conn


def page(
    conn: Conn, grantee_id: str, *, limit: int, after: tuple[str, str] | None = None
) -> list[dict[str, Any]]:
    """Persons whose grant to ``grantee_id`` is live, by name then id, after a (name, id) key.

    ``last_import_at`` is the end of the person's latest completed import,
    ``last_session_at`` the start of their latest session that has begun.
    """
    return conn.execute(
        """SELECT p.id AS person_id, p.name, p.tz, g.scopes,
                  (SELECT max(coalesce(i.finished_at, i.created_at)) FROM import i
                   WHERE i.person_id = p.id AND i.status = 'completed') AS last_import_at,
                  (SELECT max(s.starts_at) FROM session s
                   WHERE s.person_id = p.id AND s.starts_at <= now()) AS last_session_at
           FROM consent_grant g JOIN person p ON p.id = g.person_id
           WHERE g.grantee_id = %(grantee)s AND g.status = 'active'
             AND (g.expires_at IS NULL OR g.expires_at > now())
             AND (%(a_name)s::text IS NULL OR (p.name, p.id) > (%(a_name)s, %(a_id)s::uuid))
           ORDER BY p.name, p.id LIMIT %(limit)s""",
        {
            "grantee": grantee_id,
            "a_name": after[0] if after else None,
            "a_id": after[1] if after else None,
            "limit": limit,
        },
    ).fetchall()
