"""Background import throughput: a backlog of queued imports drained by 1, then 2 workers.

For each worker count, on a fresh database: one RR file of ``--beats`` beats
is queued ``--files`` times for a new person (each import with its own start
time, so every row is new), then that many ``vagus worker`` processes (one
job thread each) drain the queue. The span is taken from the database, from
the first claim to the last finish, so process start-up is not counted.

    .venv/bin/python bench/jobs.py [--files 24] [--beats 50000] [--workers 1,2]

Uses VAGUS_DATABASE_URL's server when set, otherwise an embedded server in a
temporary folder. Prints one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.access.repository import persons
from service.core.db import connect, embedded, migrate, rls
from service.imports import repository as imports
from service.jobs.queue import enqueue

REPO = Path(__file__).resolve().parents[1]
START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def fresh_database(server: str) -> str:
    name = f"vagus_bench_jobs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(server, dbname=name)
    migrate.upgrade(url, REPO / "migrations")
    return url


def drop_database(server: str, url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_round(url: str, workdir: Path, rr_file: Path, files: int, workers: int) -> dict:
    pool = connect.create_pool(url, 2)
    with rls.system_connection(pool) as conn:
        person = str(persons.create(conn, name=f"bench {workers}", tz="UTC")["id"])
        for i in range(files):
            start = START + dt.timedelta(days=30 * i)  # a month apart: no row repeats
            row = imports.create(
                conn, person_id=person, file_name=rr_file.name, stored_path=str(rr_file), start_hint=start
            )
            enqueue(conn, "import", {"import_id": row["id"], "start": start.isoformat()})
    env = {
        **os.environ,
        "VAGUS_DATABASE_URL": url,
        "VAGUS_DATA_DIR": str(workdir),
        "VAGUS_JOB_POLL_S": "0.05",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker", "--no-scheduler"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        while True:
            with rls.system_connection(pool) as conn:
                left = conn.execute(
                    "SELECT count(*) AS n FROM job WHERE kind = 'import' AND state <> 'succeeded'"
                ).fetchone()["n"]
            if left == 0:
                break
            time.sleep(0.1)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
    with rls.system_connection(pool) as conn:
        span = conn.execute(
            "SELECT extract(epoch FROM max(finished_at) - min(started_at)) AS s "
            "FROM job WHERE kind = 'import'"
        ).fetchone()
        rows = conn.execute(
            "SELECT sum(inserted) AS n, count(*) FILTER "
            "(WHERE status = 'completed') AS ok FROM import "
            "WHERE person_id = %s",
            (person,),
        ).fetchone()
        conn.execute("DELETE FROM job")
    pool.close()
    seconds = float(span["s"])
    return {
        "workers": workers,
        "imports": files,
        "completed": rows["ok"],
        "rows_inserted": int(rows["n"]),
        "seconds": round(seconds, 2),
        "imports_per_minute": round(files / seconds * 60, 1),
        "rows_per_second": round(int(rows["n"]) / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--beats", type=int, default=50_000)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vagus-bench-jobs-") as tmp:
        workdir = Path(tmp)
        server = os.environ.get("VAGUS_DATABASE_URL") or embedded.start(
            workdir / "pgdata", delete_on_exit=True
        )
        rr_file = workdir / "rr.txt"
        rr_file.write_text("\n".join(str(700 + (i * 7919) % 400) for i in range(args.beats)) + "\n")
        rounds = []
        for workers in (int(w) for w in args.workers.split(",")):
            url = fresh_database(server)
            try:
                rounds.append(run_round(url, workdir, rr_file, args.files, workers))
            finally:
                drop_database(server, url)
        print(
            json.dumps(
                {
                    "benchmark": "jobs",
                    "file_bytes": rr_file.stat().st_size,
                    "beats_per_file": args.beats,
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "rounds": rounds,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
