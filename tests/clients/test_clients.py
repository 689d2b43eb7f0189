"""The therapist's day: one account across tokens, the client list, grants with names, and a
client's sessions with their headline responses (issue 12, point 9)."""

from __future__ import annotations

import datetime as dt

from service.access import auth
from service.access.repository import accounts
from service.core.db.rls import system_connection
from tests.support.access import account_token, grant, revoke
from tests.support.people import bearer, import_file, new_person, write_rr_text

CLIENT_KEYS = {"person_id", "name", "tz", "last_import_at", "last_session_at", "recovery_status"}
ALL = ["read:observations", "read:evidence", "read:sessions"]


def test_therapist_keeps_one_account_across_tokens(vagus_in_process, client):
    first = vagus_in_process("token", "create", "--role", "therapist", "--name", "Dr Lee", "--json").json()
    again = vagus_in_process("token", "create", "--role", "therapist", "--name", "Dr Lee")
    assert again.code == 2 and again.stdout == ""
    assert f"--account {first['account_id']}" in again.stderr
    second = vagus_in_process(
        "token", "create", "--role", "therapist", "--account", first["account_id"], "--json"
    ).json()
    assert second["account_id"] == first["account_id"] and second["token"] != first["token"]
    for token in (first["token"], second["token"]):
        me = client.get("/v1/me", headers=bearer(token)).json()
        assert me["account_id"] == first["account_id"] and me["name"] == "Dr Lee"
    nameless = vagus_in_process("token", "create", "--role", "therapist")
    assert nameless.code == 2 and "--name" in nameless.stderr


def test_client_list_shows_live_grants_only_with_the_contract_keys(pool, client, tmp_path):
    therapist, token = account_token(pool, "therapist", "Dr Client list")
    ana = new_person(pool, name="Ana Client", tz="Europe/Berlin")
    bo = new_person(pool, name="Bo Client", tz="America/New_York")
    gone = new_person(pool, name="Cy Revoked")
    later = new_person(pool, name="Di Expired")
    new_person(pool, name="Ed Stranger")
    grant(pool, ana, therapist, ALL)
    grant(pool, bo, therapist, ["read:observations"])
    revoke(pool, grant(pool, gone, therapist, ALL))
    grant(pool, later, therapist, ALL, expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(milliseconds=1))
    import_file(
        pool, ana, write_rr_text(tmp_path / "ana.txt"), start=dt.datetime(2024, 5, 4, 7, tzinfo=dt.UTC)
    )
    with system_connection(pool) as conn:
        conn.execute(
            "INSERT INTO session (person_id, starts_at, ends_at, modality) VALUES "
            "(%s, '2024-05-04T15:00Z', '2024-05-04T16:00Z', 'swedish'), "
            "(%s, now() + interval '2 days', now() + interval '2 days 1 hour', "
            "'swedish')",
            (ana, ana),
        )
    response = client.get("/v1/clients", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "next_cursor"} and body["next_cursor"] is None
    assert [c["name"] for c in body["items"]] == ["Ana Client", "Bo Client"]
    assert all(set(c) == CLIENT_KEYS for c in body["items"])
    first, second = body["items"]
    assert first["person_id"] == ana and first["tz"] == "Europe/Berlin"
    assert first["last_import_at"] is not None
    # The latest session that has begun, not the one booked for later.
    assert first["last_session_at"] == "2024-05-04T15:00:00Z"
    # A few minutes of RR make no daily recovery: null, not "insufficient_data".
    assert first["recovery_status"] is None
    # Bo's grant holds read:observations only: no session time, no recovery status.
    assert second["last_session_at"] is None and second["recovery_status"] is None

    paged = client.get("/v1/clients?limit=1", headers=bearer(token)).json()
    assert [c["name"] for c in paged["items"]] == ["Ana Client"]
    rest = client.get(f"/v1/clients?limit=1&cursor={paged['next_cursor']}", headers=bearer(token)).json()
    assert [c["name"] for c in rest["items"]] == ["Bo Client"]


def test_client_list_is_for_therapists_and_apps(pool, client):
    patient = new_person(pool)
    with system_connection(pool) as conn:
        account = accounts.patient_account(conn, patient)
        token, _ = auth.issue_token(conn, account_id=str(account["id"]))
    assert client.get("/v1/clients", headers=bearer(token)).status_code == 403


def test_grants_carry_the_person_name_where_the_caller_may_see_it(pool, client):
    therapist, token = account_token(pool, "therapist", "Dr Names")
    seen = new_person(pool, name="Named Client")
    asked = new_person(pool, name="Not Yet Granted")
    grant(pool, seen, therapist, ["read:sessions"])
    response = client.post(
        "/v1/access-requests", headers=bearer(token), json={"person_id": asked, "scopes": ["read:sessions"]}
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/grants?status=pending"
    names = {
        g["person_id"]: g["person_name"]
        for g in client.get("/v1/grants", headers=bearer(token)).json()["items"]
    }
    assert names == {seen: "Named Client", asked: None}


def test_grant_commands(vagus_in_process, pool, client):
    therapist, token = account_token(pool, "therapist", "Dr Grant CLI")
    person = new_person(pool, name="Grant CLI client")
    created = vagus_in_process(
        "grant",
        "create",
        "--person",
        person,
        "--account",
        therapist,
        "--scopes",
        "read:sessions,read:evidence",
        "--expires-days",
        "30",
        "--json",
    ).json()
    assert created["status"] == "active" and created["live"] is True
    assert created["scopes"] == ["read:evidence", "read:sessions"]
    assert created["person_name"] == "Grant CLI client" and created["expires_at"] is not None
    assert client.get(f"/v1/persons/{person}", headers=bearer(token)).status_code == 200
    twice = vagus_in_process(
        "grant", "create", "--person", person, "--account", therapist, "--scopes", "read:sessions"
    )
    assert twice.code == 2 and "open grant" in twice.stderr
    bad = vagus_in_process("grant", "create", "--person", person, "--account", therapist, "--scopes", "erase")
    assert bad.code == 2 and "not grantable" in bad.stderr
    listed = vagus_in_process("grant", "list", "--person", person, "--json").json()
    assert [g["id"] for g in listed["grants"]] == [created["id"]]
    text = vagus_in_process("grant", "list", "--account", therapist)
    assert "Grant CLI client -> Dr Grant CLI" in text.stdout and "live" in text.stdout
    revoked = vagus_in_process("grant", "revoke", str(created["id"]), "--json").json()
    assert revoked["status"] == "revoked" and revoked["live"] is False
    assert client.get(f"/v1/persons/{person}", headers=bearer(token)).status_code == 404


def test_a_clients_sessions_with_their_headline_responses(pool, client, tmp_path):
    therapist, token = account_token(pool, "therapist", "Dr Sessions")
    person = new_person(pool, name="Session client", tz="Europe/Berlin")
    grant(pool, person, therapist, ALL)
    import_file(
        pool,
        person,
        write_rr_text(tmp_path / "rr.txt", n=9000),
        start=dt.datetime(2024, 5, 4, 13, tzinfo=dt.UTC),
    )
    with system_connection(pool) as conn:
        conn.execute(
            "INSERT INTO session (person_id, starts_at, ends_at, modality) VALUES "
            "(%s, '2024-05-04T14:00Z', '2024-05-04T14:30Z', 'swedish'), "
            "(%s, '2024-06-01T14:00Z', '2024-06-01T14:30Z', 'rest')",
            (person, person),
        )
    url = f"/v1/persons/{person}/session-responses"
    response = client.get(
        url, params={"from": "2024-05-04T00:00:00", "to": "2024-05-05"}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 1
    item = items[0]
    assert item["session"]["start"] == "2024-05-04T14:00:00Z"
    assert item["session"]["start_local"] == "2024-05-04T16:00:00+02:00"
    full = client.get(f"/v1/sessions/{item['session']['id']}/response", headers=bearer(token)).json()
    assert set(item["response"]["metrics"]) == set(full["metrics"])
    for name, metric in item["response"]["metrics"].items():
        assert metric["delta"] == full["metrics"][name]["delta"]
        assert metric["pre"] == full["metrics"][name]["pre"]
    # A rest-control session is listed too (the demo has six).
    both = client.get(url, headers=bearer(token)).json()["items"]
    assert [i["session"]["modality"] for i in both] == ["swedish", "rest"]
    # Without read:evidence the call is refused (the grant's scopes decide).
    other, other_token = account_token(pool, "therapist", "Dr Sessions only")
    grant(pool, person, other, ["read:sessions"])
    assert client.get(url, headers=bearer(other_token)).status_code == 403
