"""Accounts (who calls the API) and their hashed tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.core.db.types import Conn, returned


def create(conn: Conn, *, role: str, name: str, person_id: str | None = None) -> dict[str, Any]:
    return returned(
        conn.execute(
            "INSERT INTO account (role, name, person_id) VALUES (%s, %s, %s) "
            "RETURNING id, role, name, person_id, created_at",
            (role, name, person_id),
        ).fetchone()
    )


def patient_account(conn: Conn, person_id: str) -> dict[str, Any]:
    """The patient account of a person, created on first use."""
    row = conn.execute(
        "SELECT id, role, name, person_id FROM account WHERE person_id = %s AND role = 'patient'",
        (person_id,),
    ).fetchone()
    if row:
        return row
    name = conn.execute("SELECT name FROM person WHERE id = %s", (person_id,)).fetchone()
    if name is None:
        raise LookupError(f"person {person_id} does not exist")
    return create(conn, role="patient", name=name["name"], person_id=person_id)


def insert_token(
    conn: Conn,
    *,
    account_id: str,
    token_hash: bytes,
    prefix: str,
    name: str | None,
    expires_at: dt.datetime | None,
) -> dict[str, Any]:
    return returned(
        conn.execute(
            "INSERT INTO api_token (account_id, token_hash, prefix, name, expires_at) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id, account_id, prefix, name, created_at, expires_at",
            (account_id, token_hash, prefix, name, expires_at),
        ).fetchone()
    )


def principal_for_token(conn: Conn, token_hash: bytes) -> dict[str, Any] | None:
    return conn.execute(
        """SELECT a.id AS account_id, a.role, a.person_id, t.last_used_at
           FROM api_token t JOIN account a ON a.id = t.account_id
           WHERE t.token_hash = %s AND t.revoked_at IS NULL
             AND (t.expires_at IS NULL OR t.expires_at > now())""",
        (token_hash,),
    ).fetchone()


TOKEN_COLUMNS = """t.id, t.account_id, a.role::text AS role, a.name AS account_name, a.person_id,
                   t.prefix, t.name, t.created_at, t.expires_at, t.revoked_at, t.last_used_at"""


def list_tokens(conn: Conn, account_id: str | None = None) -> list[dict[str, Any]]:
    """Token metadata (never hashes), of one account or of every account visible."""
    return conn.execute(
        f"SELECT {TOKEN_COLUMNS} FROM api_token t JOIN account a ON a.id = t.account_id "
        "WHERE (%s::uuid IS NULL OR t.account_id = %s::uuid) ORDER BY t.id",
        (account_id, account_id),
    ).fetchall()


def get_token(conn: Conn, token_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {TOKEN_COLUMNS} FROM api_token t JOIN account a ON a.id = t.account_id WHERE t.id = %s",
        (token_id,),
    ).fetchone()


def live_tokens_named(conn: Conn, account_id: str, name: str) -> list[dict[str, Any]]:
    """The account's live tokens labelled ``name`` (the demo's own, for instance)."""
    return conn.execute(
        f"SELECT {TOKEN_COLUMNS} FROM api_token t JOIN account a ON a.id = t.account_id "
        "WHERE t.account_id = %s AND t.name = %s AND t.revoked_at IS NULL "
        "AND (t.expires_at IS NULL OR t.expires_at > now()) ORDER BY t.id",
        (account_id, name),
    ).fetchall()


def revoke_token(conn: Conn, token_id: int) -> dict[str, Any] | None:
    """Revoke a token that is not revoked yet; returns it as it was, or None."""
    return conn.execute(
        "UPDATE api_token SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL "
        "RETURNING id, account_id, name, created_at, expires_at",
        (token_id,),
    ).fetchone()


def find_by_name(conn: Conn, *, role: str, name: str) -> dict[str, Any] | None:
    """The oldest account of ``role`` with exactly this name, if any."""
    return conn.execute(
        "SELECT id, role::text AS role, name, person_id, created_at FROM account "
        "WHERE role = %s AND name = %s ORDER BY created_at LIMIT 1",
        (role, name),
    ).fetchone()


def touch_token(conn: Conn, token_hash: bytes, *, every_s: int) -> None:
    """Record that a token was used, at most once per ``every_s`` seconds (a cheap write:
    the row is updated only when its stamp is older than that)."""
    conn.execute(
        "UPDATE api_token SET last_used_at = now() WHERE token_hash = %s "
        "AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => %s))",
        (token_hash, every_s),
    )


def get(conn: Conn, account_id: str) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT id, role::text AS role, name, person_id, created_at FROM account WHERE id = %s", (account_id,)
    ).fetchone()
