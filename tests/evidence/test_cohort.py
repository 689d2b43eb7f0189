"""Cohort evidence: only the therapist's consenting clients, pooled, exploratory breakdowns."""

from __future__ import annotations

import datetime as dt

from service.care.repository import sessions
from service.core.db.rls import system_connection
from tests.support.access import account_token, grant, revoke
from tests.support.people import bearer, new_person, patient_token


def _sessions(pool, person: str, n: int) -> None:
    start = dt.datetime(2024, 6, 3, 15, tzinfo=dt.UTC)
    with system_connection(pool) as conn:
        for k in range(n):
            sessions.create(
                conn,
                person_id=person,
                starts_at=start + dt.timedelta(days=7 * k),
                ends_at=start + dt.timedelta(days=7 * k, hours=1),
                modality="swedish" if k % 2 else "sports",
                pressure="moderate",
            )


def test_cohort_counts_only_clients_who_granted_evidence(client, pool):
    therapist, token = account_token(pool, "therapist")
    consenting = [new_person(pool, f"Client {k}") for k in range(3)]
    observations_only = new_person(pool, "Observations only")
    stranger = new_person(pool, "Stranger")
    for person in consenting:
        _sessions(pool, person, 2)
        grant(pool, person, therapist, ["read:evidence", "read:sessions"])
    grant(pool, observations_only, therapist, ["read:observations"])
    _sessions(pool, stranger, 2)

    body = client.get("/v1/cohorts/evidence", headers=bearer(token)).json()
    assert body["n_persons"] == 3
    primary = body["endpoints"][0]
    assert (primary["claim"], primary["metric"]) == ("acute_stress", "ln_rmssd")
    # No RR data at all: nobody has usable sessions, so nothing can be pooled.
    assert primary["verdict"] == "insufficient data" and primary["k_persons"] == 0
    assert all(b["exploratory"] for b in primary["breakdowns"])

    grant_id = grant(pool, stranger, therapist, ["read:evidence"])
    assert client.get("/v1/cohorts/evidence", headers=bearer(token)).json()["n_persons"] == 4
    revoke(pool, grant_id)
    assert client.get("/v1/cohorts/evidence", headers=bearer(token)).json()["n_persons"] == 3


def test_cohort_filters_and_roles(client, pool):
    _, token = account_token(pool, "therapist")
    filtered = client.get(
        "/v1/cohorts/evidence", params={"modality": "swedish", "pressure": "deep"}, headers=bearer(token)
    ).json()
    assert filtered["filters"] == {"modality": "swedish", "pressure": "deep"}
    patient = bearer(patient_token(pool, new_person(pool, "Patient")))
    assert client.get("/v1/cohorts/evidence", headers=patient).status_code == 403
