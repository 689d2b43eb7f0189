"""Who may do what with a person's data: the one decision every person-scoped endpoint takes.

- A **patient** holds every scope on its own person and nothing on anyone else.
- A **therapist** or **app** holds the scopes of its live consent grant on that
  person (status active, not expired); revocation or expiry counts from the next
  request, because every call reads the grant afresh.
- An **admin** holds every scope on every person; each such access is audited.
- Patient-only scopes (``manage:grants``, ``read:audit``, ``export``, ``erase``,
  ``edit:person``)
  are never grantable: only the person itself or an admin holds them.

Outcomes: no relationship with the person (or no such person) is
:class:`NotVisible` (a 404, so existence does not leak); a live grant that lacks
the scope is :class:`MissingScope` (a 403: the caller already knows the person).
Every access by anyone other than the person itself is written to the audit log.
Row-level security (``service.core.db.rls``) enforces person visibility a second time.
"""

from __future__ import annotations

from typing import Any

from service.access.auth import Principal
from service.access.repository import audit, grants, persons
from service.core.db.types import Conn

READ_OBSERVATIONS = "read:observations"  # samples, sleep, imports
READ_EVIDENCE = "read:evidence"  # HRV, recovery, evidence computed from them
READ_SESSIONS = "read:sessions"  # sessions, self-reports, lab results
WRITE_SESSIONS = "write:sessions"
WRITE_IMPORTS = "write:imports"
MANAGE_GRANTS = "manage:grants"
READ_AUDIT = "read:audit"
EXPORT = "export"
ERASE = "erase"
#: Change the person's name and time zone.
EDIT_PERSON = "edit:person"
#: Held by anyone with a live grant: the person's name and time zone.
READ_PERSON = "read:person"

#: Scopes a patient can grant to a therapist or app (mirrors consent_grant's CHECK).
GRANTABLE_SCOPES = (READ_OBSERVATIONS, READ_EVIDENCE, READ_SESSIONS, WRITE_SESSIONS, WRITE_IMPORTS)
#: Scopes only the person itself (or an admin) holds.
PATIENT_ONLY_SCOPES = (MANAGE_GRANTS, READ_AUDIT, EXPORT, ERASE, EDIT_PERSON)
SCOPES = (READ_PERSON, *GRANTABLE_SCOPES, *PATIENT_ONLY_SCOPES)


class AccessDenied(Exception):
    """The caller may not do this; ``status`` is the HTTP status to answer with."""

    status = 403


class NotVisible(AccessDenied):
    status = 404


class MissingScope(AccessDenied):
    status = 403


def scopes_on(conn: Conn, principal: Principal, person_id: str) -> set[str] | None:
    """Every scope the principal holds on the person, or None when it may not see it."""
    if principal.role == "admin":
        return set(SCOPES)
    if principal.role == "patient":
        return set(SCOPES) if principal.person_id == str(person_id) else None
    granted = grants.live_scopes(conn, person_id=str(person_id), grantee_id=principal.account_id)
    return None if granted is None else granted | {READ_PERSON}


def require(conn: Conn, principal: Principal, person_id: str, scope: str = READ_PERSON) -> dict[str, Any]:
    """The person row, when the principal holds ``scope`` on it; audited unless self-access.

    Raises :class:`NotVisible` or :class:`MissingScope` otherwise.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    held = scopes_on(conn, principal, person_id)
    if held is None:
        raise NotVisible(f"no person {person_id} visible to this token")
    if scope not in held:
        raise MissingScope(f"this token's grant on person {person_id} lacks the scope {scope}")
    person = persons.get(conn, str(person_id))
    if person is None:
        raise NotVisible(f"no person {person_id} visible to this token")
    if not is_self(principal, person_id):
        audit.record(
            conn,
            actor_account_id=principal.account_id,
            actor_role=principal.role,
            person_id=str(person_id),
            action=scope,
        )
    return person


def is_self(principal: Principal, person_id: str) -> bool:
    return principal.role == "patient" and principal.person_id == str(person_id)
