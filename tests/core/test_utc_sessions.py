"""Instants come back in UTC whatever the server's TimeZone, so every answer writes them one
way (issue 12, point 12: timestamps in one format)."""

from __future__ import annotations

import datetime as dt

import psycopg

from service.core.db.connect import connect, create_pool
from service.core.localtime import iso


def test_sessions_read_instants_in_utc_on_a_server_set_to_another_zone(databases, database_url):
    url = databases.create()
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(databases.server_url, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE \"{name}\" SET TimeZone TO 'Asia/Tokyo'")
    with psycopg.connect(url) as plain:  # what a session without the setting sees
        assert plain.execute("SELECT now()").fetchone()[0].utcoffset() == dt.timedelta(hours=9)
    pool = create_pool(url, 1)
    try:
        with pool.connection() as conn:
            row = conn.execute("SELECT '2024-05-04T07:00:00Z'::timestamptz AS t").fetchone()
            instant = row["t"]
    finally:
        pool.close()
    assert instant.utcoffset() == dt.timedelta(0) and iso(instant) == "2024-05-04T07:00:00Z"
    with connect(url) as conn:
        assert conn.execute("SELECT now() AS t").fetchone()["t"].utcoffset() == dt.timedelta(0)
