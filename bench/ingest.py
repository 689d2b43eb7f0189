"""Ingest throughput: 2 million synthetic RR rows through the real import path.

Measures, on a fresh database:
  1. parse only: the rr_text connector reading the file (no database);
  2. first import: file -> connector -> binary COPY -> INSERT ... ON CONFLICT (all new);
  3. re-import of the same file (every row a duplicate).

    .venv/bin/python bench/ingest.py [--rows 2000000] [--before 0052]

Uses VAGUS_DATABASE_URL's server when set, otherwise an embedded server in a
temporary folder. Prints one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._database import REPO, fresh_database, migrations_before  # noqa: E402
from connectors import ReadContext, ReadReport  # noqa: E402
from connectors.plain import RrText  # noqa: E402
from service.access.repository import persons  # noqa: E402
from service.core.db import connect, rls  # noqa: E402
from service.imports import repository as imports
from service.imports.service import run_import  # noqa: E402
from signal_processing.synthetic import simulate_rr  # noqa: E402

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument(
        "--before", metavar="NNNN", help="apply only the migrations numbered below NNNN (an earlier schema)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vagus-bench-") as tmp:
        workdir = Path(tmp)
        rr = np.clip(simulate_rr(n_beats=args.rows, seed=7, exact_timing=False), 300, 2000)
        path = workdir / "rr.txt"
        path.write_text("\n".join(f"{v:.1f}" for v in rr) + "\n")

        file_mb = round(path.stat().st_size / 1e6, 1)
        t0 = time.perf_counter()
        rows = sum(len(b) for b in RrText().read(path, ReadContext(start=START), ReadReport()))
        parse_s = time.perf_counter() - t0

        migrations = migrations_before(workdir, args.before) if args.before else REPO / "migrations"
        with fresh_database(workdir, migrations) as url:
            pool = connect.create_pool(url, 4)
            with rls.system_connection(pool) as conn:
                person = str(persons.create(conn, name="bench", tz="UTC")["id"])
                server_version = conn.execute("SHOW server_version").fetchone()["server_version"]
            results = {}
            for label in ("new", "duplicate"):
                with rls.system_connection(pool) as conn:
                    row = imports.create(conn, person_id=person, file_name=path.name)
                t0 = time.perf_counter()
                outcome = run_import(pool, row["id"], path, start=START)
                seconds = time.perf_counter() - t0
                count = outcome.inserted if label == "new" else outcome.duplicates
                assert count == rows, (label, outcome)
                results[label] = {
                    "rows": count,
                    "seconds": round(seconds, 2),
                    "rows_per_s": round(count / seconds),
                }
            pool.close()
    print(
        json.dumps(
            {
                "rows": rows,
                "migrations_before": args.before,
                "file_mb": file_mb,
                "parse_only": {"seconds": round(parse_s, 2), "rows_per_s": round(rows / parse_s)},
                "import_new": results["new"],
                "import_duplicates": results["duplicate"],
                "postgres": server_version,
                "server": "VAGUS_DATABASE_URL" if os.environ.get("VAGUS_DATABASE_URL") else "embedded",
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
