"""People can be edited: PATCH /v1/persons/{id} and `vagus person list|show|edit`; a new zone
recomputes what depends on it (issue 12, point 11)."""

from __future__ import annotations

from service.core.db.rls import system_connection
from tests.support.access import account_token, grant
from tests.support.people import admin_token, bearer, new_person, patient_token


def _pending_and_stored(pool, person_id: str) -> tuple[bool, int]:
    with system_connection(pool) as conn:
        pending = (
            conn.execute("SELECT 1 FROM recompute_pending WHERE person_id = %s", (person_id,)).fetchone()
            is not None
        )
        stored = conn.execute(
            "SELECT count(*) AS n FROM session_response WHERE person_id = %s", (person_id,)
        ).fetchone()["n"]
    return pending, stored


def _store_a_response(pool, person_id: str) -> None:
    with system_connection(pool) as conn:
        session = conn.execute(
            "INSERT INTO session (person_id, starts_at, ends_at, modality) VALUES "
            "(%s, '2024-05-04T15:00Z', '2024-05-04T16:00Z', 'swedish') RETURNING id",
            (person_id,),
        ).fetchone()["id"]
        conn.execute(
            "INSERT INTO session_response (session_id, person_id, algorithm_version, "
            "data_version, body) VALUES (%s, %s, 'x', 'y', '{}')",
            (session, person_id),
        )


def test_patient_edits_itself_and_a_zone_change_queues_recompute(pool, client):
    person = new_person(pool, name="Before", tz="Europe/Berlin")
    _store_a_response(pool, person)
    me = bearer(patient_token(pool, person))
    renamed = client.patch(f"/v1/persons/{person}", headers=me, json={"name": "After"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "After" and renamed.json()["tz"] == "Europe/Berlin"
    assert _pending_and_stored(pool, person) == (False, 1)  # a name changes no result

    moved = client.patch(f"/v1/persons/{person}", headers=me, json={"tz": "Asia/Tokyo"})
    assert moved.status_code == 200 and moved.json()["tz"] == "Asia/Tokyo"
    assert _pending_and_stored(pool, person) == (True, 0)
    assert client.get(f"/v1/persons/{person}", headers=me).json()["tz"] == "Asia/Tokyo"


def test_who_may_edit_a_person(pool, client):
    person = new_person(pool)
    therapist, token = account_token(pool, "therapist", "Dr Edit")
    grant(
        pool,
        person,
        therapist,
        ["read:observations", "read:evidence", "read:sessions", "write:sessions", "write:imports"],
    )
    url = f"/v1/persons/{person}"
    assert client.patch(url, headers=bearer(token), json={"name": "X"}).status_code == 403
    other = bearer(patient_token(pool, new_person(pool)))
    assert client.patch(url, headers=other, json={"name": "X"}).status_code == 404
    admin = bearer(admin_token(pool))
    assert client.patch(url, headers=admin, json={"name": "By admin"}).json()["name"] == "By admin"
    bad = client.patch(url, headers=admin, json={"tz": "Mars/Olympus"})
    assert bad.status_code == 422 and "unknown IANA time zone" in bad.text
    assert client.patch(url, headers=admin, json={"colour": "red"}).status_code == 422


def test_person_commands(vagus_in_process, pool):
    created = vagus_in_process("person", "create", "--name", "Zoneless", "--json")
    assert created.code == 0
    person = created.json()
    assert person["tz"] == "UTC"
    assert "warning" in created.stderr and "UTC" in created.stderr
    zoned = vagus_in_process("person", "create", "--name", "Zoned", "--tz", "Europe/Berlin")
    assert zoned.code == 0 and zoned.stderr == ""

    bad = vagus_in_process("person", "create", "--name", "Bad zone", "--tz", "Europe/Berln")
    assert bad.code == 2 and bad.stdout == ""
    assert "unknown IANA time zone 'Europe/Berln'" in bad.stderr
    assert "pydantic" not in bad.stderr and "validation error" not in bad.stderr

    listed = vagus_in_process("person", "list", "--json").json()
    assert person["id"] in [p["id"] for p in listed["persons"]]
    shown = vagus_in_process("person", "show", person["id"], "--json").json()
    assert shown["name"] == "Zoneless" and shown["grants"] == []
    edited = vagus_in_process(
        "person", "edit", person["id"], "--tz", "America/Chicago", "--name", "Zoned now", "--json"
    ).json()
    assert (edited["name"], edited["tz"], edited["zone_changed"]) == ("Zoned now", "America/Chicago", True)
    assert _pending_and_stored(pool, person["id"])[0] is True
    text = vagus_in_process("person", "show", person["id"])
    assert "Zoned now, America/Chicago" in text.stdout and not text.stdout.startswith("{")
    nothing = vagus_in_process("person", "edit", person["id"])
    assert nothing.code == 2 and "nothing to change" in nothing.stderr
