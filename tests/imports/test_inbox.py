"""Inbox folders: files are taken once they stop growing, imported once, then filed away."""

from __future__ import annotations

import datetime as dt

from service.imports import inbox
from service.jobs.worker import Worker
from tests.support.jobs import START, sql
from tests.support.people import new_person


def _csv(rows: int, offset_s: int = 0) -> str:
    times = (START + dt.timedelta(seconds=offset_s + i) for i in range(rows))
    return "time,rr\n" + "".join(f"{t.isoformat()},{800 + i % 7}\n" for i, t in enumerate(times))


def _drain(pool, settings) -> int:
    """Run queued jobs in this thread until none is left; how many ran."""
    worker = Worker(pool, settings, kinds=["import"])
    ran = 0
    while worker.run_once():
        ran += 1
    return ran


def _imports(pool, person):
    return sql(pool, "SELECT * FROM import WHERE person_id = %s ORDER BY id", (person,))


def test_inbox_imports_stable_files_once_and_files_them_away(jobs_pool, jobs_settings):
    person = new_person(jobs_pool)
    folder = jobs_settings.inbox_dir / person
    folder.mkdir(parents=True)
    (jobs_settings.inbox_dir / "not-a-person").mkdir()
    (folder / ".partial-download").write_text("ignored: hidden")
    export = folder / "strap.csv"
    export.write_text(_csv(200))

    first = inbox.sync(jobs_pool, jobs_settings)
    assert (first.seen, first.waiting, first.queued, first.skipped_folders) == (1, 1, 0, 1)
    with export.open("a") as out:  # still being written by the sync client
        out.write(_csv(100, offset_s=200).split("\n", 1)[1])
    assert inbox.sync(jobs_pool, jobs_settings).waiting == 1
    assert inbox.sync(jobs_pool, jobs_settings).queued == 1  # unchanged across two scans
    assert not export.exists() and _drain(jobs_pool, jobs_settings) == 1

    (record,) = _imports(jobs_pool, person)
    assert (record["status"], record["inserted"]) == ("completed", 300)
    assert (folder / "processed" / "strap.csv").is_file()
    assert (folder / ".partial-download").exists()

    # The same content dropped again, under another name: not imported twice.
    (folder / "strap-copy.csv").write_bytes((folder / "processed" / "strap.csv").read_bytes())
    inbox.sync(jobs_pool, jobs_settings)
    again = inbox.sync(jobs_pool, jobs_settings)
    assert (again.queued, again.duplicates) == (0, 1)
    assert _drain(jobs_pool, jobs_settings) == 0
    assert len(_imports(jobs_pool, person)) == 1
    assert (folder / "processed" / "strap-copy.csv").is_file()
    note = (folder / "processed" / "strap-copy.csv.duplicate.txt").read_text()
    assert f"import {record['id']}" in note
    assert (
        sql(jobs_pool, "SELECT count(*) AS n FROM observation WHERE person_id = %s", (person,))[0]["n"] == 300
    )


def test_a_bad_inbox_file_ends_in_failed_with_its_reason(jobs_pool, jobs_settings):
    person = new_person(jobs_pool)
    folder = jobs_settings.inbox_dir / person
    folder.mkdir(parents=True)
    (folder / "broken.csv").write_text("time,rr\n2024-05-04T07:00:00Z,800\nnot a time,oops\n")
    inbox.sync(jobs_pool, jobs_settings)
    assert inbox.sync(jobs_pool, jobs_settings).queued == 1
    assert _drain(jobs_pool, jobs_settings) == 1

    (record,) = _imports(jobs_pool, person)
    assert record["status"] == "failed"
    failed = folder / "failed" / "broken.csv"
    assert failed.is_file() and not (folder / "processed").exists()
    reason = (folder / "failed" / "broken.csv.error.txt").read_text()
    assert record["error"] in reason and "broken.csv" in reason
    assert (
        sql(jobs_pool, "SELECT count(*) AS n FROM observation WHERE person_id = %s", (person,))[0]["n"] == 0
    )
