"""A subset of the hostile corpus through the real import pipeline, on a real database.

Each case marked ``pipeline=True`` is registered (``service.imports.service.register``)
for a fresh person in the case's zone and run (``run_import``). A case that
must fail ends ``failed`` with the connector's reason and leaves no
observation or episode row behind; one that must read ends ``completed``,
stores exactly what the connector kept, and stores nothing at a time outside
the year the case is about (no beat moved years ahead by a corrupt interval).
"""

from __future__ import annotations

import datetime as dt

import pytest

from service.core.db.rls import system_connection
from service.imports.service import register, run_import
from tests.hostile.corpus import CASES, Case, Fails
from tests.hostile.seeds import START
from tests.support.people import new_person

PIPELINE = [case for case in CASES if case.pipeline]
YEAR = (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 1, 1, tzinfo=dt.UTC))


def _stored(pool, person_id: str) -> dict[str, object]:
    with system_connection(pool) as conn:
        samples = conn.execute(
            "SELECT count(*) AS n, min(ts) AS first, max(ts) AS last FROM observation WHERE person_id = %s",
            (person_id,),
        ).fetchone()
        episodes = conn.execute(
            "SELECT count(*) AS n FROM sleep_episode WHERE person_id = %s", (person_id,)
        ).fetchone()["n"]
    return {**samples, "episodes": episodes}


def test_the_pipeline_subset_covers_failures_and_reads() -> None:
    assert sum(isinstance(c.expect, Fails) for c in PIPELINE) >= 5
    assert sum(not isinstance(c.expect, Fails) for c in PIPELINE) >= 4


@pytest.mark.parametrize("case", PIPELINE, ids=[case.name for case in PIPELINE])
def test_case_through_the_import_pipeline(case: Case, pool, tmp_path) -> None:
    person = new_person(pool, tz=case.tz)
    path = case.write(tmp_path)
    with system_connection(pool) as conn:
        row = register(conn, person_id=person, file_name=path.name)
    outcome = run_import(pool, row["id"], path, format_name=case.format, start=START)
    stored = _stored(pool, person)
    if isinstance(case.expect, Fails):
        assert outcome.status == "failed"
        assert case.expect.says in (outcome.error or "")
        assert case.name in (outcome.error or "")
        assert (stored["n"], stored["episodes"]) == (0, 0), "nothing half-stored"
        return
    assert outcome.status == "completed", outcome.error
    assert stored["n"] == outcome.inserted
    if case.expect.samples is not None:
        assert outcome.inserted == case.expect.samples
    assert YEAR[0] <= stored["first"] and stored["last"] < YEAR[1], stored
    for fragment, count in case.expect.rejected.items():
        assert sum(n for reason, n in outcome.rejected_reasons.items() if fragment in reason) == count, (
            outcome.rejected_reasons
        )
    with system_connection(pool) as conn:  # the database is still there for the next import
        assert conn.execute("SELECT 1 AS ok").fetchone()["ok"] == 1
