"""Trial plans and their planned sessions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg.types.json import Jsonb

from service.core.db.types import Conn, returned

PLAN_COLUMNS = (
    "id, person_id, created_at, seed, weeks, per_week, rest_share, first_day, "
    "weekdays, time_of_day, duration_minutes, tz, power"
)


def create(
    conn: Conn,
    *,
    person_id: str,
    seed: int,
    weeks: int,
    per_week: int,
    rest_share: float,
    first_day: dt.date,
    weekdays: list[int],
    time_of_day: dt.time,
    duration_minutes: int,
    tz: str,
    power: dict[str, Any],
    sessions: list[dict[str, Any]],
) -> dict[str, Any]:
    """Store a plan and its sessions (each with seq, week, starts_at, ends_at, kind)."""
    plan = returned(
        conn.execute(
            f"""INSERT INTO trial_plan (person_id, seed, weeks, per_week, rest_share, first_day,
                                    weekdays, time_of_day, duration_minutes, tz, power)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {PLAN_COLUMNS}""",
            (
                person_id,
                seed,
                weeks,
                per_week,
                rest_share,
                first_day,
                weekdays,
                time_of_day,
                duration_minutes,
                tz,
                Jsonb(power),
            ),
        ).fetchone()
    )
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO trial_plan_session (plan_id, person_id, seq, week, starts_at, ends_at,
                                               kind) VALUES (%s, %s, %s, %s, %s, %s, %s)""",
            [
                (plan["id"], person_id, s["seq"], s["week"], s["starts_at"], s["ends_at"], s["kind"])
                for s in sessions
            ],
        )
    return plan


def get(conn: Conn, plan_id: int) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {PLAN_COLUMNS} FROM trial_plan WHERE id = %s", (plan_id,)).fetchone()


def latest(conn: Conn, person_id: str) -> dict[str, Any] | None:
    """The person's most recently made plan."""
    return conn.execute(
        f"""SELECT {PLAN_COLUMNS} FROM trial_plan WHERE person_id = %s
            ORDER BY created_at DESC, id DESC LIMIT 1""",
        (person_id,),
    ).fetchone()


def page(
    conn: Conn, *, person_id: str, limit: int = 100, after: tuple[dt.datetime, int] | None = None
) -> list[dict[str, Any]]:
    """A person's plans in (created_at, id) order, after a cursor key."""
    sql = f"SELECT {PLAN_COLUMNS} FROM trial_plan WHERE person_id = %(person)s"
    params: dict[str, Any] = {"person": person_id, "limit": limit}
    if after is not None:
        sql += " AND (created_at, id) > (%(c_ts)s, %(c_id)s)"
        params.update(c_ts=after[0], c_id=after[1])
    return conn.execute(sql + " ORDER BY created_at, id LIMIT %(limit)s", params).fetchall()


def sessions(conn: Conn, plan_id: int) -> list[dict[str, Any]]:
    """A plan's sessions in time order."""
    return conn.execute(
        """SELECT seq, week, starts_at, ends_at, kind FROM trial_plan_session
           WHERE plan_id = %s ORDER BY seq""",
        (plan_id,),
    ).fetchall()
