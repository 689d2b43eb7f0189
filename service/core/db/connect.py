"""Where the database is, and connections to it."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from service.core.db import embedded, rls
from service.core.db.types import Conn, Pool, returned
from service.core.settings import Settings

#: Every session reads instants back in UTC, so that each answer writes them one way
#: (``...Z``) whatever the server's own TimeZone setting is.
UTC_SESSION = "-c TimeZone=UTC"


def database_url(settings: Settings) -> str:
    """The configured URL, or the embedded server's (started on first use)."""
    if settings.database_url:
        return settings.database_url
    return embedded.start(settings.embedded_dir)


def connect(url: str, *, autocommit: bool = False) -> Conn:
    return psycopg.connect(url, autocommit=autocommit, row_factory=dict_row, options=UTC_SESSION)


def create_pool(url: str, size: int, *, system: bool = False) -> Pool:
    """A pool whose connections are checked before use, so a database restart heals itself.

    Each connection runs as the non-owner role ``vagus_service``, so row-level
    security applies; borrowers say who they act for with :mod:`service.core.db.rls`.
    ``system=True`` is the operator's pool (the CLI): every connection starts in
    the system context, which sees every person. Never hand it to the API.
    """
    configure, reset = (rls.configure_system, rls.reset_system) if system else (rls.configure, rls.reset)
    return ConnectionPool(
        url,
        connection_class=Conn,
        min_size=1,
        max_size=size,
        open=True,
        check=ConnectionPool.check_connection,
        configure=configure,
        reset=reset,
        kwargs={"row_factory": dict_row, "options": UTC_SESSION},
        name="vagus-system" if system else "vagus",
    )


def try_session_lock(conn: Conn, lock_id: int) -> bool:
    """Take a session-level advisory lock without waiting; held until the session ends."""
    row = returned(conn.execute("SELECT pg_try_advisory_lock(%s) AS won", (lock_id,)).fetchone())
    return bool(row["won"])


def ping(conn: Conn) -> None:
    """A round trip that fails if the session is gone."""
    conn.execute("SELECT 1")
