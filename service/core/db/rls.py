"""Who a database connection acts for, as row-level security sees it.

Every pooled connection runs as the non-owner role ``vagus_service``
(migrations/0010_access_control.sql), whose policies show a person's rows only
to the acting principal. Before touching person data, a connection says who it
acts for with exactly one of:

- :func:`act_as` (an authenticated account: patient, therapist, app, admin),
- :func:`act_for_person` (work on one person's data, e.g. ingest of their file),
- :func:`act_as_system` (the deliberate bypass: CLI operator commands, jobs
  that sweep across people, token authentication).

Settings are transaction-local inside a transaction (so ``conn.commit()`` ends
them: say who you act for again after a commit); on an autocommit connection
they last for the session and the pool's reset clears them when the connection
goes back, so nothing leaks from one borrower to the next.

A new person-scoped table gets its policies in its migration with
``SELECT vagus_protect_person_table('<table>')`` (docs/security.md). Samples are
the exception that works the same way: ``observation`` is a security-barrier view
over the owner-only ``observation_data`` that applies the same rule to the same
settings (row-level security cannot cover a compressed TimescaleDB hypertable);
the service inserts through the view and erases with ``vagus_erase_observations``
(migrations/0052).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from service.core.db.types import Conn, Pool

SERVICE_ROLE = "vagus_service"
_KEYS = (
    "vagus.account_id",
    "vagus.person_id",
    "vagus.role",
    "vagus.client_ip",
    "vagus.user_agent",
    "vagus.request",
)


def _set(conn: Conn, values: dict[str, str]) -> None:
    # Unset keys are cleared too, so switching context never keeps an old one.
    local = not conn.autocommit
    merged = {key: "" for key in ("vagus.account_id", "vagus.person_id", "vagus.role")}
    merged.update(values)
    assignments = ", ".join("set_config(%s, %s, %s)" for _ in merged)
    params: list[object] = []
    for key, value in merged.items():
        params += [key, value, local]
    conn.execute(f"SELECT {assignments}", params)


def act_as(conn: Conn, account_id: str) -> None:
    """Act for an authenticated account: RLS derives the visible persons from it."""
    _set(conn, {"vagus.account_id": str(account_id)})


def act_for_person(conn: Conn, person_id: str) -> None:
    """Act on exactly one person's rows (no account involved)."""
    _set(conn, {"vagus.person_id": str(person_id)})


def act_as_system(conn: Conn) -> None:
    """The explicit bypass: every row is visible. For operators and cross-person jobs only."""
    _set(conn, {"vagus.role": "system"})


def set_request_info(
    conn: Conn, *, client_ip: str | None, user_agent: str | None, request: str | None
) -> None:
    """Where the current request comes from; audit rows pick it up (see repositories.audit)."""
    local = not conn.autocommit
    conn.execute(
        "SELECT set_config('vagus.client_ip', %s, %s), set_config('vagus.user_agent', %s, %s), "
        "set_config('vagus.request', %s, %s)",
        (client_ip or "", local, (user_agent or "")[:500], local, (request or "")[:500], local),
    )


@contextmanager
def system_connection(pool: Pool) -> Iterator[Conn]:
    """A pooled connection in the system context, committed on normal exit."""
    with pool.connection() as conn:
        act_as_system(conn)
        yield conn


def configure(conn: Conn) -> None:
    """Pool hook for a new connection: become the service role (owner rights are dropped)."""
    conn.execute(f"SET ROLE {SERVICE_ROLE}")
    if not conn.autocommit:
        conn.commit()


def reset(conn: Conn) -> None:
    """Pool hook when a connection is returned: forget who it acted for, and leave
    autocommit off (a borrower that turned it on must not hand the next one a
    connection whose "transaction" commits every statement)."""
    conn.execute("SELECT " + ", ".join(f"set_config('{key}', '', false)" for key in _KEYS))
    if conn.autocommit:
        conn.autocommit = False
    else:
        conn.commit()


def configure_system(conn: Conn) -> None:
    """Pool hook for the operator's pool: the service role, in the system context."""
    conn.execute(f"SET ROLE {SERVICE_ROLE}")
    conn.execute("SELECT set_config('vagus.role', 'system', false)")
    if not conn.autocommit:
        conn.commit()


def reset_system(conn: Conn) -> None:
    reset(conn)
    conn.execute("SELECT set_config('vagus.role', 'system', false)")
    if not conn.autocommit:
        conn.commit()
