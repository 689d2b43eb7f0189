"""Ingest on a real database: idempotent, all-or-nothing, counted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from service.core.db.rls import system_connection
from service.imports import repository as imports
from service.imports.loader import BATCH_ROWS, encode_copy_binary
from service.imports.service import run_import
from tests.support.people import new_person, write_rr_text

START = dt.datetime(2024, 5, 4, 7, 0, tzinfo=dt.UTC)


def _import(pool, person_id: str, path: Path, **kwargs):
    with system_connection(pool) as conn:
        row = imports.create(conn, person_id=person_id, file_name=path.name)
    return run_import(pool, row["id"], path, **kwargs)


def _count(pool, person_id: str, metric: str = "rr_interval") -> int:
    with system_connection(pool) as conn:
        return conn.execute(
            "SELECT count(*) AS n FROM observation WHERE person_id = %s AND metric = %s", (person_id, metric)
        ).fetchone()["n"]


def test_same_file_twice_inserts_nothing_the_second_time(pool, tmp_path):
    person = new_person(pool)
    path = write_rr_text(tmp_path / "rr.txt", n=700)
    first = _import(pool, person, path, start=START)
    assert (first.status, first.read, first.inserted, first.duplicates) == ("completed", 700, 700, 0)
    second = _import(pool, person, path, start=START)
    assert (second.status, second.inserted, second.duplicates) == ("completed", 0, 700)
    assert _count(pool, person) == 700


def test_overlapping_later_export_inserts_only_what_is_new(pool, tmp_path):
    person = new_person(pool)
    early = tmp_path / "early.csv"
    late = tmp_path / "late.csv"
    times = [START + dt.timedelta(seconds=i) for i in range(300)]
    early.write_text("time,rr\n" + "".join(f"{t.isoformat()},900\n" for t in times[:200]))
    late.write_text("time,rr\n" + "".join(f"{t.isoformat()},900\n" for t in times[100:]))
    assert _import(pool, person, early).inserted == 200
    outcome = _import(pool, person, late)
    assert (outcome.inserted, outcome.duplicates) == (100, 100)
    assert _count(pool, person) == 300


def test_garbage_after_a_full_batch_leaves_nothing_and_names_the_line(pool, tmp_path):
    person = new_person(pool)
    values = [850.0] * (BATCH_ROWS + 10)  # at least one batch is flushed before the error
    path = write_rr_text(tmp_path / "broken.txt", values)
    with path.open("a") as out:
        out.write("850\n\x00garbage;;\n")
    outcome = _import(pool, person, path, start=START)
    assert outcome.status == "failed"
    assert "broken.txt" in outcome.error and f"line {BATCH_ROWS + 12}" in outcome.error
    assert _count(pool, person) == 0
    with system_connection(pool) as conn:
        record = imports.get(conn, outcome.import_id)
        sources = conn.execute("SELECT count(*) AS n FROM source WHERE person_id = %s", (person,)).fetchone()[
            "n"
        ]
    assert record["status"] == "failed" and record["error"] == outcome.error
    assert sources == 0
    # The same file, mended, imports fully.
    path.write_text("\n".join(["850"] * 100) + "\n")
    assert _import(pool, person, path, start=START).inserted == 100


def test_binary_file_fails_cleanly(pool, tmp_path):
    person = new_person(pool)
    path = tmp_path / "random.bin"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    outcome = _import(pool, person, path)
    assert outcome.status == "failed"
    assert "random.bin" in outcome.error
    assert _count(pool, person) == 0


def test_rejections_are_counted_by_reason(pool, tmp_path):
    person = new_person(pool)
    path = write_rr_text(tmp_path / "rr.txt", [800, 5000, 900, 120, 1000])
    outcome = _import(pool, person, path, start=START)
    assert (outcome.read, outcome.inserted, outcome.rejected) == (5, 3, 2)
    assert outcome.rejected_reasons == {"rr_interval out of physiological bounds": 2}


def test_stored_beats_keep_their_times_and_values(pool, tmp_path):
    person = new_person(pool)
    path = write_rr_text(tmp_path / "rr.txt", [800.5, 1000.25, 900])
    _import(pool, person, path, start=START)
    with system_connection(pool) as conn:
        rows = conn.execute(
            "SELECT ts, value FROM observation WHERE person_id = %s ORDER BY ts", (person,)
        ).fetchall()
    assert [r["value"] for r in rows] == [800.5, 1000.25, 900.0]
    assert [r["ts"] for r in rows] == [
        START + dt.timedelta(milliseconds=ms) for ms in (800.5, 1800.75, 2700.75)
    ]


def test_file_without_times_needs_a_start(pool, tmp_path):
    person = new_person(pool)
    outcome = _import(pool, person, write_rr_text(tmp_path / "rr.txt"))
    assert outcome.status == "failed" and "start" in outcome.error


def test_copy_encoding_round_trips_through_postgres(conn):
    ts = np.array([0, 1_714_806_000_123_456, -86_400_000_000], dtype=np.int64)
    value = np.array([1.5, -0.25, 1e300])
    conn.execute(
        "CREATE TEMP TABLE s (source_id int, metric_code smallint, ts timestamptz, "
        "value double precision, context smallint)"
    )
    with conn.cursor() as cur, cur.copy("COPY s FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(
            encode_copy_binary(
                np.array([7, 8, 9], np.int32),
                np.array([1, 2, 3], np.int16),
                ts,
                value,
                np.array([-1, 0, 2], np.int16),
            )
        )
    rows = conn.execute(
        "SELECT source_id, metric_code, context, "
        "(extract(epoch FROM ts) * 1000000)::bigint AS us, value FROM s"
    ).fetchall()
    assert [r["context"] for r in rows] == [-1, 0, 2]
    assert [r["source_id"] for r in rows] == [7, 8, 9]
    assert [r["metric_code"] for r in rows] == [1, 2, 3]
    assert [r["us"] for r in rows] == ts.tolist()
    assert [r["value"] for r in rows] == value.tolist()


def test_unknown_import_id_is_a_programming_error(pool, tmp_path):
    path = write_rr_text(tmp_path / "rr.txt")
    with pytest.raises(LookupError):
        run_import(pool, 10**12, path, start=START)


class _TaggedHeartRate:
    """A connector yielding heart rate with and without a motion context."""

    name = "tagged"
    description = "test only"

    def sniff(self, path, head) -> bool:
        return False

    def read(self, path, ctx, report):
        from connectors.base import SampleBatch, SourceInfo

        source = SourceInfo(key="watch", name="Watch", kind="watch")
        base = 1_714_806_000_000_000
        for k, tags in enumerate(
            (
                {"motion_context": "sedentary"},
                {"motion_context": "active"},
                {"motion_context": "not_set"},
                None,
            )
        ):
            yield SampleBatch(
                source, "heart_rate", np.array([base + k * 1_000_000]), np.array([60.0 + k]), tags=tags
            )


def test_motion_context_is_stored_with_heart_rate(pool, tmp_path):
    person = new_person(pool)
    path = write_rr_text(tmp_path / "marker.txt", n=1)
    with system_connection(pool) as conn:
        row = imports.create(conn, person_id=person, file_name=path.name)
    assert run_import(pool, row["id"], path, connector=_TaggedHeartRate()).inserted == 4
    with system_connection(pool) as conn:
        stored = conn.execute(
            "SELECT value, context FROM observation WHERE person_id = %s ORDER BY ts", (person,)
        ).fetchall()
    assert [(r["value"], r["context"]) for r in stored] == [(60.0, 1), (61.0, 2), (62.0, 0), (63.0, None)]


def test_a_file_whose_every_sample_is_dropped_fails_with_the_reason(pool, tmp_path):
    """Beats timed before 1990 are refused by the loader: nothing stored is a failure."""
    person = new_person(pool)
    path = write_rr_text(tmp_path / "rr-1985.txt", n=50)
    outcome = _import(pool, person, path, start=dt.datetime(1985, 1, 1, tzinfo=dt.UTC))
    assert outcome.status == "failed"
    assert "nothing storable" in outcome.error and "before 1990" in outcome.error
    assert _count(pool, person) == 0
