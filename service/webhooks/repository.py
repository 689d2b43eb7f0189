"""Webhook subscriptions and their delivery log."""

from __future__ import annotations

from typing import Any

from service.core.db.types import Conn, returned

COLUMNS = "id, account_id, url, events, person_id, active, created_at"


def create(
    conn: Conn, *, account_id: str, url: str, secret: str, events: list[str], person_id: str | None
) -> dict[str, Any]:
    return returned(
        conn.execute(
            f"INSERT INTO webhook_subscription (account_id, url, secret, events, person_id) "
            f"VALUES (%s, %s, %s, %s, %s) RETURNING {COLUMNS}",
            (account_id, url, secret, events, person_id),
        ).fetchone()
    )


def get(conn: Conn, subscription_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {COLUMNS} FROM webhook_subscription WHERE id = %s", (subscription_id,)
    ).fetchone()


def list_for(
    conn: Conn, account_id: str | None, *, limit: int, after_id: int | None = None
) -> list[dict[str, Any]]:
    """A page of an account's subscriptions (every account's when ``account_id`` is None),
    in id order after ``after_id``."""
    return conn.execute(
        f"SELECT {COLUMNS} FROM webhook_subscription "
        f"WHERE (%(a)s::uuid IS NULL OR account_id = %(a)s::uuid) "
        f"AND (%(after)s::bigint IS NULL OR id > %(after)s) ORDER BY id LIMIT %(limit)s",
        {"a": account_id, "after": after_id, "limit": limit},
    ).fetchall()


def delete(conn: Conn, subscription_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"DELETE FROM webhook_subscription WHERE id = %s RETURNING {COLUMNS}", (subscription_id,)
    ).fetchone()


def deliveries(
    conn: Conn, subscription_id: int, *, limit: int, before_id: int | None = None
) -> list[dict[str, Any]]:
    """A page of delivery attempts, newest first, older than ``before_id``."""
    return conn.execute(
        "SELECT id, event_id, event_type, job_id, attempt, status_code, error, succeeded, "
        "attempted_at FROM webhook_delivery WHERE subscription_id = %s "
        "AND (%s::bigint IS NULL OR id < %s) ORDER BY id DESC LIMIT %s",
        (subscription_id, before_id, before_id, limit),
    ).fetchall()


def account_role(conn: Conn, account_id: str) -> str | None:
    row = conn.execute("SELECT role FROM account WHERE id = %s", (account_id,)).fetchone()
    return row["role"] if row else None


def active_for_event(conn: Conn, event_type: str, person_id: str) -> list[dict[str, Any]]:
    """Active subscriptions to ``event_type`` for this person (or for every person)."""
    return conn.execute(
        """SELECT s.id, s.account_id, a.role, a.person_id AS account_person
           FROM webhook_subscription s JOIN account a ON a.id = s.account_id
           WHERE s.active AND %s = ANY(s.events) AND (s.person_id IS NULL OR s.person_id = %s)""",
        (event_type, person_id),
    ).fetchall()


def target(conn: Conn, subscription_id: int) -> dict[str, Any] | None:
    """Where and how to deliver: the subscription's URL, secret and state."""
    return conn.execute(
        """SELECT s.id, s.url, s.secret, s.active, s.account_id, a.role::text AS role
           FROM webhook_subscription s JOIN account a ON a.id = s.account_id
           WHERE s.id = %s""",
        (subscription_id,),
    ).fetchone()


def record_delivery(
    conn: Conn,
    *,
    subscription_id: int,
    event: dict[str, Any],
    job_id: int,
    attempt: int,
    status_code: int | None,
    error: str | None,
    succeeded: bool,
) -> None:
    conn.execute(
        """INSERT INTO webhook_delivery (subscription_id, event_id, event_type, job_id,
                                         attempt, status_code, error, succeeded)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
        (subscription_id, event["id"], event["type"], job_id, attempt, status_code, error, succeeded),
    )
