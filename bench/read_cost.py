"""Read cost of samples behind the security-barrier view, against row-level security before it.

One database, one data set, read twice by the service role acting for one person:
  1. "before": migrations up to 0041, observation a table under row-level security;
  2. "after": migration 0052 applied, observation a security-barrier view over
     observation_data (the service role has no privilege on the table).

Data: --persons persons, each --days days of heart rate every 5 s and one hour of RR
intervals (0.8 s) per day, written by the owner. Reads, through the repository code the
API uses (service.observations.repository), for every person in turn:
  - day_series: read_series of heart rate and RR for one day (the analysis read);
  - week_page: the first 1,000 heart-rate rows of a 7-day range (the API's page);
  - week_page_function (after only): the same page through vagus_observation_page
    (migrations/0053), checked equal to the view's;
  - unscoped_count: SELECT count(*) FROM observation with no WHERE (only the person's rows).
Each figure is the median over --rounds rounds of all persons, in milliseconds per read.

    .venv/bin/python bench/read_cost.py [--persons 20 --days 30 --rounds 5]

Uses VAGUS_DATABASE_URL's server when set, otherwise an embedded server in a temporary
folder. Prints one JSON object, with the plan of the day read after each step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._database import REPO, fresh_database, migrations_before  # noqa: E402
from service.access.repository import persons  # noqa: E402
from service.core.db import connect, migrate, rls  # noqa: E402
from service.observations import repository as observations

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
VIEW_MIGRATION = "0052_observation_behind_view.sql"  # "before" stops short of it
READ_DAY = 2  # the day read (the data starts at START)


def load(url: str, person_ids: list[str], days: int) -> int:
    """The owner writes every person's samples (row-level security does not apply to it)."""
    with connect.connect(url) as owner:
        for person in person_ids:
            source = owner.execute(
                "INSERT INTO source (person_id, key, name, kind) "
                "VALUES (%s, 'strap', 'Bench strap', 'chest_strap') RETURNING id",
                (person,),
            ).fetchone()["id"]
            owner.execute(
                """INSERT INTO observation (person_id, metric, source_id, ts, value)
                   SELECT %(p)s, 'heart_rate', %(s)s, %(t)s + i * interval '5 s',
                          60 + 10 * sin(i / 50.0)
                   FROM generate_series(0, %(days)s * 17280 - 1) i""",
                {"p": person, "s": source, "t": START, "days": days},
            )
            owner.execute(
                """INSERT INTO observation (person_id, metric, source_id, ts, value)
                   SELECT %(p)s, 'rr_interval', %(s)s,
                          %(t)s + d * interval '1 day' + interval '22 hours'
                              + i * interval '800 ms',
                          800 + 40 * sin(i / 7.0)
                   FROM generate_series(0, %(days)s - 1) d, generate_series(0, 4499) i""",
                {"p": person, "s": source, "t": START, "days": days},
            )
        owner.commit()
        rows = owner.execute("SELECT count(*) AS n FROM observation").fetchone()["n"]
    with connect.connect(url, autocommit=True) as owner:
        owner.execute("VACUUM ANALYZE")
    return rows


# The same page as observations.page, through vagus_observation_page (migrations/0053).
_FUNCTION_PAGE = """
    SELECT o.metric::text AS metric, o.ts, o.value, o.source_id, s.name AS source, o.context
    FROM vagus_observation_page(%s, %s::metric[], %s, %s, NULL, NULL, NULL, 1000) o
    JOIN source s ON s.id = o.source_id
    ORDER BY o.metric, o.source_id, o.ts"""


def measure(pool, person_ids: list[str], rounds: int, *, with_function: bool = False) -> dict[str, float]:
    timings: dict[str, list[float]] = {"day_series": [], "week_page": [], "unscoped_count": []}
    if with_function:
        timings["week_page_function"] = []
    day = START + dt.timedelta(days=READ_DAY)
    for _ in range(rounds):
        for person in person_ids:
            with pool.connection() as conn, conn.transaction():
                rls.act_for_person(conn, person)
                t0 = time.perf_counter()
                series = observations.read_series(
                    conn,
                    person_id=person,
                    metrics=("heart_rate", "rr_interval"),
                    start=day,
                    end=day + dt.timedelta(days=1),
                )
                t1 = time.perf_counter()
                page = observations.page(
                    conn,
                    person_id=person,
                    metric="heart_rate",
                    start=day,
                    end=day + dt.timedelta(days=7),
                    limit=1000,
                    after=None,
                )
                t2 = time.perf_counter()
                if with_function:
                    paged = conn.execute(
                        _FUNCTION_PAGE, (person, ["heart_rate"], day, day + dt.timedelta(days=7))
                    ).fetchall()
                    timings["week_page_function"].append(time.perf_counter() - t2)
                    assert paged == page, "the function's page differs from the view's"
                    t2 = time.perf_counter()
                count = conn.execute("SELECT count(*) AS n FROM observation").fetchone()["n"]
                t3 = time.perf_counter()
            assert len(series["heart_rate"]) == 17280 and len(series["rr_interval"]) == 4500
            assert len(page) == 1000 and count > 0, (len(page), count)
            timings["day_series"].append(t1 - t0)
            timings["week_page"].append(t2 - t1)
            timings["unscoped_count"].append(t3 - t2)
    return {name: round(statistics.median(values) * 1000, 2) for name, values in timings.items()}


def day_plan(pool, person: str) -> list[str]:
    day = START + dt.timedelta(days=READ_DAY)
    with pool.connection() as conn, conn.transaction():
        rls.act_for_person(conn, person)
        rows = conn.execute(
            "EXPLAIN SELECT ts, value FROM observation WHERE person_id = %s "
            "AND metric = 'heart_rate' AND ts >= %s AND ts < %s",
            (person, day, day + dt.timedelta(days=1)),
        ).fetchall()
    return [r["QUERY PLAN"] for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vagus-bench-") as tmp:
        workdir = Path(tmp)
        before = migrations_before(workdir, VIEW_MIGRATION[:4])
        with fresh_database(workdir, before) as url:
            pool = connect.create_pool(url, 2)
            with rls.system_connection(pool) as conn:
                person_ids = [
                    str(persons.create(conn, name=f"reader {i}", tz="UTC")["id"]) for i in range(args.persons)
                ]
                server_version = conn.execute("SHOW server_version").fetchone()["server_version"]
                tier = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
            rows = load(url, person_ids, args.days)
            results = {"before_row_level_security": measure(pool, person_ids, args.rounds)}
            plans = {"before_row_level_security": day_plan(pool, person_ids[0])}
            migrate.upgrade(url, REPO / "migrations")
            with connect.connect(url, autocommit=True) as owner:
                owner.execute("VACUUM ANALYZE")
            pool.close()  # new connections: nothing cached from the table's old shape
            pool = connect.create_pool(url, 2)
            results["after_security_barrier_view"] = measure(
                pool, person_ids, args.rounds, with_function=True
            )
            plans["after_security_barrier_view"] = day_plan(pool, person_ids[0])
            pool.close()
    print(
        json.dumps(
            {
                "rows": rows,
                "persons": args.persons,
                "days": args.days,
                "rounds": args.rounds,
                "ms_per_read_median": results,
                "plans": plans,
                "postgres": server_version,
                "timescaledb": bool(tier),
                "server": "VAGUS_DATABASE_URL" if os.environ.get("VAGUS_DATABASE_URL") else "embedded",
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
