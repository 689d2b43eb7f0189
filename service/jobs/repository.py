"""The job table: enqueue, claim under a lease, heartbeat, finish, retry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg.types.json import Jsonb

from service.core.db.types import Conn

COLUMNS = """id, kind, payload, state, unique_key, attempts, max_attempts, run_at, locked_by,
             lease_until, last_error, result, created_at, started_at, finished_at, person_id"""


def enqueue(
    conn: Conn,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    unique_key: str | None = None,
    max_attempts: int = 5,
    run_at: dt.datetime | None = None,
    person_id: str | None = None,
) -> dict[str, Any] | None:
    """Add a job; with ``unique_key``, None when a job with that key already exists.

    ``person_id`` names the person whose data the job carries (erased and exported with
    them); it defaults to the payload's ``person_id`` or its event's.
    """
    payload = payload or {}
    event = payload.get("event")
    person_id = (
        person_id or payload.get("person_id") or (event.get("person_id") if isinstance(event, dict) else None)
    )
    return conn.execute(
        f"INSERT INTO job (kind, payload, unique_key, max_attempts, run_at, person_id) "
        f"VALUES (%s, %s, %s, %s, coalesce(%s, now()), %s) "
        f"ON CONFLICT (unique_key) DO NOTHING RETURNING {COLUMNS}",
        (kind, Jsonb(payload), unique_key, max_attempts, run_at, str(person_id) if person_id else None),
    ).fetchone()


def claim(conn: Conn, *, worker: str, kinds: list[str], lease_s: float) -> dict[str, Any] | None:
    """Take the next ready job (or one whose lease lapsed) and lease it to ``worker``.

    SKIP LOCKED lets any number of workers poll at once without waiting on
    each other; each job goes to exactly one of them.
    """
    return conn.execute(
        f"""UPDATE job SET state = 'running', attempts = attempts + 1, locked_by = %(worker)s,
                   lease_until = now() + make_interval(secs => %(lease)s),
                   started_at = now(), last_error = CASE WHEN state = 'running'
                       THEN 'lease expired: the worker ' || locked_by || ' was lost'
                       ELSE last_error END
            WHERE id = (
                SELECT id FROM job
                WHERE kind = ANY(%(kinds)s)
                  AND ((state = 'queued' AND run_at <= now())
                       OR (state = 'running' AND lease_until < now()
                           AND attempts < max_attempts))
                ORDER BY run_at, id
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
            RETURNING {COLUMNS}""",
        {"worker": worker, "kinds": kinds, "lease": lease_s},
    ).fetchone()


def bury_exhausted(conn: Conn) -> int:
    """Lapsed leases of jobs with no attempts left become 'dead' (their worker kept dying)."""
    return conn.execute(
        """UPDATE job SET state = 'dead', finished_at = now(), locked_by = NULL,
                  last_error = 'lease expired on the last attempt: the worker ' || locked_by
                               || ' was lost'
           WHERE id IN (SELECT id FROM job WHERE state = 'running' AND lease_until < now()
                        AND attempts >= max_attempts FOR UPDATE SKIP LOCKED)"""
    ).rowcount


def heartbeat(conn: Conn, *, worker: str, held: dict[int, int], lease_s: float) -> list[int]:
    """Extend the leases this worker still holds (``held``: job id to attempt number);
    returns the ids it still holds. A job re-claimed meanwhile, by another worker or
    another thread of this one (a later attempt), is no longer held."""
    rows = conn.execute(
        """UPDATE job SET lease_until = now() + make_interval(secs => %s)
           FROM unnest(%s::bigint[], %s::int[]) AS h(id, attempts)
           WHERE job.id = h.id AND job.attempts = h.attempts AND job.locked_by = %s
             AND job.state = 'running' RETURNING job.id""",
        (lease_s, list(held), list(held.values()), worker),
    ).fetchall()
    return [r["id"] for r in rows]


def hold_for_commit(conn: Conn, job: dict[str, Any]) -> bool:
    """Lock the job's row until the caller's transaction ends, if this attempt still owns
    it: work that commits inside that transaction then cannot race a new owner."""
    return (
        conn.execute(
            """SELECT id FROM job WHERE id = %s AND locked_by = %s AND attempts = %s
              AND state = 'running' FOR UPDATE""",
            (job["id"], job["locked_by"], job["attempts"]),
        ).fetchone()
        is not None
    )


def succeed(conn: Conn, job: dict[str, Any], result: Any = None) -> bool:
    """Mark a claimed job done; False when the claim was lost to another worker meanwhile."""
    return (
        conn.execute(
            """UPDATE job SET state = 'succeeded', result = %s, finished_at = now(),
                  lease_until = NULL, locked_by = NULL
           WHERE id = %s AND locked_by = %s AND attempts = %s AND state = 'running'""",
            (Jsonb(result), job["id"], job["locked_by"], job["attempts"]),
        ).rowcount
        == 1
    )


def fail(conn: Conn, job: dict[str, Any], error: str, *, retry_in_s: float | None) -> bool:
    """Record a failed attempt: back to 'queued' after ``retry_in_s``, or 'dead' when None."""
    if retry_in_s is None:
        sql = """UPDATE job SET state = 'dead', last_error = %s, finished_at = now(),
                        lease_until = NULL, locked_by = NULL
                 WHERE id = %s AND locked_by = %s AND attempts = %s AND state = 'running'"""
        params: tuple = (error, job["id"], job["locked_by"], job["attempts"])
    else:
        sql = """UPDATE job SET state = 'queued', last_error = %s, lease_until = NULL,
                        locked_by = NULL, run_at = now() + make_interval(secs => %s)
                 WHERE id = %s AND locked_by = %s AND attempts = %s AND state = 'running'"""
        params = (error, retry_in_s, job["id"], job["locked_by"], job["attempts"])
    return conn.execute(sql, params).rowcount == 1


def requeue(conn: Conn, job_id: int) -> dict[str, Any] | None:
    """A dead job gets a fresh set of attempts, now."""
    return conn.execute(
        f"""UPDATE job SET state = 'queued', attempts = 0, run_at = now(), finished_at = NULL
            WHERE id = %s AND state = 'dead' RETURNING {COLUMNS}""",
        (job_id,),
    ).fetchone()


def get(conn: Conn, job_id: int) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {COLUMNS} FROM job WHERE id = %s", (job_id,)).fetchone()


def list_jobs(
    conn: Conn, *, state: str | None, kind: str | None, limit: int, before_id: int | None = None
) -> list[dict[str, Any]]:
    return conn.execute(
        f"""SELECT {COLUMNS} FROM job
            WHERE (%(state)s::job_state IS NULL OR state = %(state)s::job_state)
              AND (%(kind)s::text IS NULL OR kind = %(kind)s)
              AND (%(before)s::bigint IS NULL OR id < %(before)s)
            ORDER BY id DESC LIMIT %(limit)s""",
        {"state": state, "kind": kind, "before": before_id, "limit": limit},
    ).fetchall()


def mark_person_changed(conn: Conn, person_id: str, import_id: int) -> None:
    """Note that an import added data for a person, for the next recompute sweep."""
    conn.execute(
        """INSERT INTO recompute_pending (person_id, import_ids) VALUES (%s, ARRAY[%s::bigint])
           ON CONFLICT (person_id) DO UPDATE
              SET import_ids = CASE WHEN %s::bigint = ANY(recompute_pending.import_ids)
                                    THEN recompute_pending.import_ids
                                    ELSE recompute_pending.import_ids || %s::bigint END""",
        (person_id, import_id, import_id, import_id),
    )


def mark_person_rezoned(conn: Conn, person_id: str) -> None:
    """A person's time zone changed: what was computed in local time (session responses'
    nights and control days) is dropped and the person queued for the next recompute sweep,
    which computes every session response that is missing."""
    conn.execute("DELETE FROM session_response WHERE person_id = %s", (person_id,))
    conn.execute(
        "INSERT INTO recompute_pending (person_id) VALUES (%s) ON CONFLICT (person_id) DO NOTHING",
        (person_id,),
    )


def take_changed_persons(conn: Conn) -> list[dict[str, Any]]:
    """Empty the pending-recompute list and return what was on it (call inside a transaction)."""
    return conn.execute("DELETE FROM recompute_pending RETURNING person_id, import_ids, since").fetchall()


def enqueue_nightly(conn: Conn, *, kind: str, after_local_hour: int, max_attempts: int) -> int:
    """One ``kind`` job per person whose local clock is past ``after_local_hour`` today.

    Keyed by person and local date, so it is queued once per local night however
    often this runs, and on whichever replica.
    """
    return conn.execute(
        """INSERT INTO job (kind, payload, unique_key, max_attempts)
           SELECT %(kind)s,
                  jsonb_build_object('person_id', id, 'local_date', local_date::text),
                  %(kind)s || ':' || id || ':' || local_date, %(max)s
           FROM (SELECT id, (now() AT TIME ZONE tz)::date AS local_date,
                        (now() AT TIME ZONE tz)::time AS local_time FROM person) p
           WHERE local_time >= make_time(%(hour)s, 0, 0)
           ON CONFLICT (unique_key) DO NOTHING""",
        {"kind": kind, "max": max_attempts, "hour": after_local_hour},
    ).rowcount


def prune(conn: Conn, *, older_than_days: int, periodic_kinds: list[str], dead_older_than_days: int) -> int:
    """Delete jobs finished long ago: succeeded ones and dead runs of periodic kinds (a
    later period has run since) after ``older_than_days``; every other dead job after
    ``dead_older_than_days`` (time enough to look at it; its payload may name a person)."""
    conn.execute("DELETE FROM inbox_file WHERE seen_at < now() - interval '1 day'")
    return conn.execute(
        """DELETE FROM job
           WHERE (finished_at < now() - make_interval(days => %s)
                  AND (state = 'succeeded' OR (state = 'dead' AND kind = ANY(%s))))
              OR (state = 'dead' AND finished_at < now() - make_interval(days => %s))""",
        (older_than_days, periodic_kinds, dead_older_than_days),
    ).rowcount
