"""Erasure also clears the person from the hourly rollup, whichever form it has on the tier."""

from __future__ import annotations

import datetime as dt

from service.core.db import capability, connect, rls
from service.jobs import registry
from service.jobs.maintenance import maintenance
from tests.support.people import (
    bearer,
    import_file,
    new_person,
    patient_token,
    write_rr_text,
)
from tests.support.tiers import rollups_refreshed_by_maintenance


def _rollup_rows(url: str, person: str) -> int:
    with connect.connect(url) as owner:  # the rollup is owner-only
        return owner.execute(
            "SELECT count(*) AS n FROM observation_hourly WHERE person_id = %s", (person,)
        ).fetchone()["n"]


def test_erasure_queues_a_rollup_refresh_that_removes_the_person(
    client, pool, settings, database_url, tier, tmp_path
):
    person = new_person(pool, "Rolled up")
    import_file(
        pool,
        person,
        write_rr_text(tmp_path / "rr.txt", n=600),
        start=dt.datetime(2024, 5, 4, 7, tzinfo=dt.UTC),
    )
    with connect.connect(database_url, autocommit=True) as owner:
        # A periodic refresh: the materialised view is refreshed; a continuous aggregate is
        # left to its policy (Timescale licence), whose window is the last 90 days only, so
        # the 2024 samples here get in with a refresh of the whole aggregate.
        periodic = capability.refresh_rollups(owner, capability.current_tier(owner))
        assert periodic is rollups_refreshed_by_maintenance(tier), tier
        if not periodic:
            assert capability.refresh_rollups(owner, tier, everything=True), tier
    assert _rollup_rows(database_url, person) >= 1, tier

    response = client.delete(f"/v1/persons/{person}", headers=bearer(patient_token(pool, person)))
    assert response.status_code == 200, response.text
    with rls.system_connection(pool) as conn:
        queued = conn.execute(
            "SELECT kind FROM job WHERE unique_key = %s", (f"maintenance:erasure:{person}",)
        ).fetchall()
    assert [q["kind"] for q in queued] == ["maintenance"]

    # After an erasure every tier refreshes, the continuous aggregate in full.
    result = maintenance(registry.JobContext(pool, settings, {"attempts": 1}), {"reason": "erasure"})
    assert result["rollups_refreshed"] is True, tier
    assert _rollup_rows(database_url, person) == 0, tier
