"""The recompute job: late data makes stored responses stale; the job redoes them once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from service.access.repository import accounts, grants
from service.analysis import repository as responses
from service.analysis.tasks import nightly_baselines, recompute_person
from service.care.repository import sessions
from service.core.db import rls
from service.jobs import registry
from tests.analysis.test_session_response import _afternoon_rr
from tests.support.jobs import sql
from tests.support.people import import_file, new_person

TZ = ZoneInfo("Europe/Berlin")


def _ctx(pool, settings):
    return registry.JobContext(pool, settings, {"attempts": 1})


def test_late_data_recomputes_stored_responses_once_and_emits_events(jobs_pool, jobs_settings, tmp_path):
    person = new_person(jobs_pool, "Late data")
    day = dt.date(2024, 4, 10)
    start = dt.datetime.combine(day, dt.time(15), tzinfo=TZ)
    with rls.system_connection(jobs_pool) as conn:
        session = sessions.create(
            conn,
            person_id=person,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            modality="swedish",
            pressure="light",
        )
        app = accounts.create(conn, role="app", name="Coach app")
        grants.create(
            conn,
            person_id=person,
            grantee_id=str(app["id"]),
            scopes=["read:evidence"],
            status="active",
            requested_by=str(app["id"]),
            expires_at=None,
            note=None,
        )
        conn.execute(
            "INSERT INTO webhook_subscription (account_id, url, secret, events) VALUES "
            "(%s, 'http://127.0.0.1:9/hook', 's', "
            "'{session.response.ready,evidence.updated}')",
            (app["id"],),
        )

    first = recompute_person(_ctx(jobs_pool, jobs_settings), {"person_id": person})
    assert first["sessions_recomputed"] == [session["id"]]
    with rls.system_connection(jobs_pool) as conn:
        before = responses.get(conn, session["id"])
    assert before["body"]["metrics"]["mean_hr"]["pre"] is None  # no data yet

    path = tmp_path / "late.csv"
    path.write_text("\n".join(["time,rr_ms", *_afternoon_rr(day, seed=3, relaxed_after=None)]))
    import_file(jobs_pool, person, path)
    second = recompute_person(_ctx(jobs_pool, jobs_settings), {"person_id": person})
    assert second["sessions_recomputed"] == [session["id"]]
    assert second["data_version"] != first["data_version"]
    with rls.system_connection(jobs_pool) as conn:
        after = responses.get(conn, session["id"])
    assert after["body"]["metrics"]["mean_hr"]["pre"] is not None
    assert after["data_version"] == second["data_version"]

    # Nothing changed since: a rerun (a retried job) recomputes nothing and sends nothing new.
    third = recompute_person(_ctx(jobs_pool, jobs_settings), {"person_id": person})
    assert third["sessions_recomputed"] == []
    events = sql(
        jobs_pool,
        "SELECT payload->'event'->>'type' AS type FROM job "
        "WHERE kind = 'webhook_deliver' AND payload->'event'->>'person_id' = %s",
        (person,),
    )
    assert sorted(e["type"] for e in events) == [
        "evidence.updated",
        "evidence.updated",
        "session.response.ready",
        "session.response.ready",
    ]


def test_nightly_baselines_records_the_days_status(jobs_pool, jobs_settings):
    person = new_person(jobs_pool, "Nightly")
    result = nightly_baselines(
        _ctx(jobs_pool, jobs_settings), {"person_id": person, "local_date": "2024-04-10"}
    )
    assert result["status"] == "insufficient_data" and result["ln_rmssd"] is None
    gone = nightly_baselines(
        _ctx(jobs_pool, jobs_settings),
        {"person_id": "00000000-0000-0000-0000-000000000000", "local_date": "2024-04-10"},
    )
    assert gone["skipped"] == "person no longer exists"
