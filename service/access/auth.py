"""Bearer tokens and who may see whom.

A token is ``vgs_`` followed by 43 URL-safe characters (256 random bits). Only
its SHA-256 is stored: with that much entropy a slow hash adds nothing, and a
fast one keeps every request's lookup cheap. The plain token is shown once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from service.access.repository import accounts
from service.core.db import rls
from service.core.db.types import Conn

Role = Literal["admin", "patient", "therapist", "app"]
TOKEN_PREFIX = "vgs_"
#: ``last_used_at`` is written at most this often per token: a request in a burst costs no write.
LAST_USED_RESOLUTION_S = 60


@dataclass(frozen=True)
class Principal:
    """The caller of a request."""

    account_id: str
    role: Role
    person_id: str | None  # the person a patient account acts for

    def can_access_person(self, person_id: str) -> bool:
        if self.role == "admin":
            return True
        return self.role == "patient" and self.person_id == str(person_id)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue_token(
    conn: Conn, *, account_id: str, name: str | None = None, expires_at: dt.datetime | None = None
) -> tuple[str, dict]:
    """Create a token for an account; returns (plain token, stored row)."""
    token = new_token()
    row = accounts.insert_token(
        conn,
        account_id=account_id,
        token_hash=hash_token(token),
        prefix=token[:10],
        name=name,
        expires_at=expires_at,
    )
    return token, row


def authenticate(conn: Conn, token: str) -> Principal | None:
    """The principal behind a live (unexpired, unrevoked) token, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    # No principal exists yet: the lookup itself is a deliberate system read.
    rls.act_as_system(conn)
    digest = hash_token(token)
    row = accounts.principal_for_token(conn, digest)
    if row is None:
        return None
    last = row["last_used_at"]
    if last is None or (dt.datetime.now(dt.UTC) - last).total_seconds() >= LAST_USED_RESOLUTION_S:
        accounts.touch_token(conn, digest, every_s=LAST_USED_RESOLUTION_S)
    return Principal(
        account_id=str(row["account_id"]),
        role=row["role"],
        person_id=str(row["person_id"]) if row["person_id"] else None,
    )


def rotate_token(
    conn: Conn, token_id: int, *, expires_at: dt.datetime | None = None
) -> tuple[str, dict] | None:
    """Replace a live token with a new one for the same account (the old one stops at once).

    Returns (plain new token, stored row), or None when the token is unknown,
    revoked or not visible to the connection's principal.
    """
    old = accounts.revoke_token(conn, token_id)
    if old is None:
        return None
    if old["expires_at"] is not None and expires_at is None:
        # Keep the old token's lifetime, counted from now.
        expires_at = dt.datetime.now(dt.UTC) + (old["expires_at"] - old["created_at"])
    return issue_token(conn, account_id=str(old["account_id"]), name=old["name"], expires_at=expires_at)
