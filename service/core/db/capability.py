"""What the database can do: plain PostgreSQL, or TimescaleDB (Apache or Timescale licence).

This and the migrations are the only places that know TimescaleDB exists
(docs/architecture.md, "Storage tiers"). The probe:

1. ``timescaledb`` is listed in ``pg_available_extensions`` and
   ``CREATE EXTENSION`` succeeds inside a savepoint (it fails unless the
   library is preloaded);
2. ``current_setting('timescaledb.license', true)`` tells the tier:
   ``timescale`` has compression, continuous aggregates and policies;
   ``apache`` has hypertables and ``time_bucket`` only.
"""

from __future__ import annotations

from typing import Literal

import psycopg

from service.core.db.types import Conn, returned

Tier = Literal["timescale", "apache", "postgres"]
TIERS: tuple[Tier, ...] = ("timescale", "apache", "postgres")


def probe(conn: Conn) -> Tier:
    """The best tier this database offers, creating the extension when it can."""
    available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    if not available:
        return "postgres"
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except psycopg.Error:
        return "postgres"  # available but not preloaded (shared_preload_libraries)
    return _licence_tier(conn)


def current_tier(conn: Conn) -> Tier:
    """The tier in use, without creating anything."""
    installed = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    return _licence_tier(conn) if installed else "postgres"


def _licence_tier(conn: Conn) -> Tier:
    row = returned(conn.execute("SELECT current_setting('timescaledb.license', true) AS licence").fetchone())
    licence = row["licence"] or ""
    return "timescale" if licence == "timescale" else "apache"


def bucket_expression(tier: Tier, width: str, column: str = "ts") -> str:
    """SQL for the start of the ``width`` bucket holding ``column``.

    ``width`` must be a trusted interval literal such as ``'1 hour'`` (it is
    placed into the SQL text). ``date_bin`` (PostgreSQL 14+) and ``time_bucket``
    agree for widths that divide a day when both are aligned to 2000-01-03,
    which is ``time_bucket``'s default origin.
    """
    if tier == "postgres":
        return f"date_bin(interval '{width}', {column}, timestamptz '2000-01-03 00:00:00+00')"
    return f"time_bucket(interval '{width}', {column})"


def refresh_rollups(conn: Conn, tier: Tier, *, everything: bool = False) -> bool:
    """Refresh the hourly rollup where nothing refreshes it by itself.

    On the Timescale licence a continuous aggregate policy does it, over its
    recent window only; ``everything`` (after an erasure) refreshes the whole
    aggregate so that no old bucket keeps an erased person's data. That call
    must not run inside a transaction: ``conn`` is an autocommit connection of
    the view's owner. Elsewhere ``observation_hourly`` is a materialised view
    refreshed here. Returns whether a refresh ran.
    """
    if tier == "timescale":
        if not everything:
            return False
        conn.execute("CALL refresh_continuous_aggregate('observation_hourly', NULL, NULL)")
        return True
    row = returned(
        conn.execute(
            "SELECT relispopulated FROM pg_class WHERE oid = 'observation_hourly'::regclass"
        ).fetchone()
    )
    populated = row["relispopulated"]
    # CONCURRENTLY keeps the view readable, but needs a first plain refresh.
    mode = "CONCURRENTLY " if populated else ""
    conn.execute(f"REFRESH MATERIALIZED VIEW {mode}observation_hourly")
    return True
