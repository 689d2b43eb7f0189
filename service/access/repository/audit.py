"""The audit log: append and read, never change (the service role may not UPDATE or DELETE)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from service.core.db.types import Conn

COLUMNS = "id, at, actor_account_id, actor_role, person_id, action, resource, client_ip, user_agent"


def record(
    conn: Conn,
    *,
    actor_account_id: str | None,
    actor_role: str | None,
    person_id: str | None,
    action: str,
    resource: str | None = None,
) -> None:
    """Append one event. Client address, user agent and the request line come from the
    connection's request info (``rls.set_request_info``) when the caller gives none."""
    conn.execute(
        """INSERT INTO audit_event (actor_account_id, actor_role, person_id, action, resource,
                                    client_ip, user_agent)
           VALUES (%s, %s, %s, %s,
                   coalesce(%s, nullif(current_setting('vagus.request', true), '')),
                   nullif(current_setting('vagus.client_ip', true), ''),
                   nullif(current_setting('vagus.user_agent', true), ''))""",
        (actor_account_id, actor_role, person_id, action, resource),
    )


def page(conn: Conn, person_id: str, *, limit: int, before_id: int | None = None) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {COLUMNS} FROM audit_event WHERE person_id = %s "
        "AND (%s::bigint IS NULL OR id < %s) ORDER BY id DESC LIMIT %s",
        (person_id, before_id, before_id, limit),
    ).fetchall()


def stream(conn: Conn, person_id: str) -> Iterator[dict[str, Any]]:
    with conn.cursor(name="audit_stream") as cur:
        cur.execute(f"SELECT {COLUMNS} FROM audit_event WHERE person_id = %s ORDER BY id", (person_id,))
        yield from cur
