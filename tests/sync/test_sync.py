"""Cloud sync end to end against the fake vendor: connect, sync, faults, push, secrets."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.parse

import pytest
from cryptography.fernet import Fernet, InvalidToken

from service.access.repository import accounts, grants
from service.core.db import rls
from service.sync import service, tasks
from service.sync.client import RateLimited, VendorUnavailable
from service.sync.crypto import Vault
from tests.support.people import bearer
from tests.sync import accounts as scripted
from tests.sync.conftest import KEY, anchor_day

# -- helpers -------------------------------------------------------------------------------


def _rows(pool, person: str) -> set[tuple[str, dt.datetime, float]]:
    with rls.system_connection(pool) as conn:
        found = conn.execute(
            "SELECT metric::text AS metric, ts, value FROM observation WHERE person_id = %s", (person,)
        ).fetchall()
    return {(r["metric"], r["ts"], r["value"]) for r in found}


def _episodes(pool, person: str) -> set[tuple[str, dt.datetime, dt.datetime]]:
    with rls.system_connection(pool) as conn:
        sleep = conn.execute(
            "SELECT stage, starts_at, ends_at FROM sleep_episode WHERE person_id = %s", (person,)
        ).fetchall()
        rest = conn.execute(
            "SELECT starts_at, ends_at FROM rest_episode WHERE person_id = %s", (person,)
        ).fetchall()
    return {(r["stage"], r["starts_at"], r["ends_at"]) for r in sleep} | {
        ("mindful", r["starts_at"], r["ends_at"]) for r in rest
    }


def _one(pool, query: str, *args):
    with rls.system_connection(pool) as conn:
        return conn.execute(query, args).fetchone()


def _all(pool, query: str, *args):
    with rls.system_connection(pool) as conn:
        return conn.execute(query, args).fetchall()


def _sync(pool, settings, connected, **kwargs):
    return service.sync(pool, settings, connected.connection_id, **kwargs)


class _Ctx:
    """A job context for calling a task handler directly."""

    def __init__(self, pool, settings, job_id: int = 0) -> None:
        self.pool, self.settings, self.job = pool, settings, {"id": job_id, "attempts": 1}


# -- connect ---------------------------------------------------------------------------------


def test_connect_runs_pkce_and_stores_the_grant_encrypted(client, pool, vendor, connect):
    connected = connect("oura")
    row = _one(pool, "SELECT * FROM sync_connection WHERE id = %s", connected.connection_id)
    assert row["status"] == "active" and row["external_user_id"] == "oura-user-1"
    issued = vendor.tokens_issued()
    assert len(issued) == 2  # one access and one refresh token
    # The column holds neither token; it opens with the key and with no other.
    assert not any(token in row["secret"] for token in issued)
    opened = json.loads(Fernet(KEY.encode()).decrypt(row["secret"].encode()))
    assert {opened["access_token"], opened["refresh_token"]} == set(issued)
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(row["secret"].encode())
    # The first sync was queued by the callback.
    job = _one(
        pool,
        "SELECT payload FROM job WHERE kind = 'sync_connection' AND payload->>'connection_id' = %s",
        str(connected.connection_id),
    )
    assert job["payload"]["trigger"] == "connect"


def test_a_state_works_once_and_a_wrong_verifier_is_refused(client, pool, vendor, connect):
    from tests.support.people import new_person, patient_token
    from tests.sync.conftest import authorize_at_vendor

    person = new_person(pool)
    headers = bearer(patient_token(pool, person))
    started = client.post(
        f"/v1/persons/{person}/connections", json={"provider": "whoop"}, headers=headers
    ).json()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(started["authorization_url"]).query))
    assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 43
    back = authorize_at_vendor(started["authorization_url"])
    assert client.get("/v1/sync/callback", params=back).status_code == 200
    again = client.get("/v1/sync/callback", params=back)
    assert again.status_code == 400 and "start the connection again" in again.text
    forged = client.get("/v1/sync/callback", params={"code": "x", "state": "forged-state"})
    assert forged.status_code == 400


def test_a_person_declining_at_the_vendor_gets_the_reason(client, pool, vendor):
    from tests.support.people import new_person, patient_token

    person = new_person(pool)
    started = client.post(
        f"/v1/persons/{person}/connections",
        json={"provider": "oura"},
        headers=bearer(patient_token(pool, person)),
    ).json()
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(started["authorization_url"]).query))["state"]
    declined = client.get("/v1/sync/callback", params={"state": state, "error": "access_denied"})
    assert declined.status_code == 400 and "Oura did not grant access (access_denied)" in declined.text
    assert _all(pool, "SELECT 1 AS x FROM sync_connection WHERE person_id = %s", person) == []


def test_an_unconfigured_provider_cannot_be_connected(client, pool, vendor, monkeypatch):
    from tests.support.people import new_person, patient_token

    monkeypatch.delenv("VAGUS_SYNC_WHOOP_CLIENT_ID")
    person = new_person(pool)
    response = client.post(
        f"/v1/persons/{person}/connections",
        json={"provider": "whoop"},
        headers=bearer(patient_token(pool, person)),
    )
    assert response.status_code == 409 and "VAGUS_SYNC_WHOOP_CLIENT_ID" in response.text


# -- sync --------------------------------------------------------------------------------


def test_oura_account_syncs_into_exactly_its_rows(pool, settings, vendor, connect):
    account = scripted.oura(anchor_day())
    vendor.records["oura"] = account.records
    connected = connect("oura")
    outcome = _sync(pool, settings, connected, trigger="connect")
    assert outcome.status == "completed", outcome.reason
    assert _rows(pool, connected.person) == account.rows
    assert _episodes(pool, connected.person) == account.episodes
    # 90 days of heart rate in 30-day windows (Oura's limit): two empty windows, then the
    # 15 records in pages of 2, each page asked with the previous page's next_token.
    pages = vendor.requests_to("/v2/usercollection/heartrate")
    assert len(pages) == 2 + 8 and "next_token" in pages[3].query
    assert "next_token" not in pages[2].query
    ledger = _one(pool, "SELECT * FROM import WHERE id = %s", outcome.import_id)
    assert ledger["status"] == "completed" and ledger["connector"] == "oura_cloud"
    assert ledger["file_name"].startswith("oura_cloud_") and ledger["rejected"] == 0
    assert ledger["inserted"] == len(account.rows) + len(account.episodes)
    assert ledger["skipped"]["Oura hrv item without a value (null)"] == 5
    run = _one(pool, "SELECT * FROM sync_run WHERE id = %s", outcome.run_id)
    assert (run["status"], run["import_id"], run["records"]) == (
        "completed",
        outcome.import_id,
        sum(len(v) for v in account.records.values()),
    )
    # The import's follow-ups ran: the person is marked for recompute.
    assert (
        _one(pool, "SELECT 1 AS x FROM recompute_pending WHERE person_id = %s", connected.person) is not None
    )


def test_whoop_account_syncs_into_exactly_its_rows(pool, settings, vendor, connect):
    account = scripted.whoop(anchor_day())
    vendor.records["whoop"] = account.records
    connected = connect("whoop")
    outcome = _sync(pool, settings, connected)
    assert outcome.status == "completed", outcome.reason
    assert _rows(pool, connected.person) == account.rows
    assert _episodes(pool, connected.person) == account.episodes
    ledger = _one(pool, "SELECT * FROM import WHERE id = %s", outcome.import_id)
    assert ledger["connector"] == "whoop_cloud" and ledger["rejected"] == 0
    assert ledger["skipped"]["WHOOP recovery not scored (PENDING_SCORE)"] == 1
    assert ledger["skipped"]["WHOOP respiratory rate of a nap"] == 1
    assert all(r.query["limit"] == "25" for r in vendor.requests_to("/developer/v2/recovery"))


def test_fitbit_account_syncs_into_exactly_its_rows(pool, settings, vendor, connect):
    account = scripted.fitbit(anchor_day())
    vendor.records["fitbit"] = account.records
    connected = connect("fitbit")  # the fake token endpoint accepts HTTP Basic only
    row = _one(pool, "SELECT external_user_id FROM sync_connection WHERE id = %s", connected.connection_id)
    assert row["external_user_id"] == "7QXK2R"
    outcome = _sync(pool, settings, connected)
    assert outcome.status == "completed", outcome.reason
    assert _rows(pool, connected.person) == account.rows
    assert _episodes(pool, connected.person) == account.episodes
    # Intraday heart rate: one request per UTC day of the 90-day backfill (the API's limit).
    days = vendor.requests_to("/1d/1min.json")
    assert len(days) == len({s.path for s in days}) in (90, 91)
    ledger = _one(pool, "SELECT * FROM import WHERE id = %s", outcome.import_id)
    assert ledger["connector"] == "fitbit_cloud" and ledger["rejected"] == 0
    assert ledger["skipped"] == {"Fitbit day without a resting heart rate": 1}


def test_fitbit_intraday_without_access_names_the_likely_cause(pool, settings, vendor, connect):
    connected = connect("fitbit")
    vendor.fail("/1d/1min.json", 200, body=b'{"activities-heart": []}')
    outcome = _sync(pool, settings, connected)
    assert outcome.status == "failed"
    assert outcome.reason == (
        "Fitbit heart_intraday page 1: not an object with "
        "activities-heart-intraday (is intraday access granted?)"
    )


def test_repeated_sync_inserts_nothing_and_asks_from_the_cursor(pool, settings, vendor, connect):
    account = scripted.oura(anchor_day())
    vendor.records["oura"] = account.records
    connected = connect("oura")
    assert _sync(pool, settings, connected).status == "completed"
    cursor = _one(
        pool,
        "SELECT synced_until FROM sync_cursor WHERE connection_id = %s AND data_type = 'heartrate'",
        connected.connection_id,
    )["synced_until"]
    before = len(vendor.seen)
    again = _sync(pool, settings, connected)
    assert again.status == "completed" and again.inserted == 0
    assert _rows(pool, connected.person) == account.rows
    first = next(s for s in vendor.seen[before:] if s.path.endswith("/heartrate"))
    assert dt.datetime.fromisoformat(first.query["start_datetime"].replace("Z", "+00:00")) == cursor.replace(
        microsecond=0
    )


def test_incremental_sync_adds_only_the_new_records(pool, settings, vendor, connect):
    account = scripted.oura(anchor_day())
    vendor.records["oura"] = account.records
    connected = connect("oura")
    _sync(pool, settings, connected)
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=30)
    vendor.records["oura"]["heartrate"].append({"bpm": 99, "source": "rest", "timestamp": moment.isoformat()})
    outcome = _sync(pool, settings, connected)
    assert outcome.inserted == 1
    assert _rows(pool, connected.person) == account.rows | {("heart_rate", moment, 99.0)}


def test_access_token_lapsing_mid_sync_is_refreshed(pool, settings, vendor, connect):
    account = scripted.whoop(anchor_day())
    vendor.records["whoop"] = account.records
    connected = connect("whoop")
    before = _one(pool, "SELECT secret FROM sync_connection WHERE id = %s", connected.connection_id)["secret"]
    vendor.revoke_all()  # forget the connect-time grant ...
    vendor.access_uses = 3  # ... and let every new access token serve three requests
    vendor.grants.append(_grant_from(before, vendor))
    outcome = _sync(pool, settings, connected)
    assert outcome.status == "completed", outcome.reason
    assert _rows(pool, connected.person) == account.rows
    refreshes = [s for s in vendor.requests_to("/oauth/token") if s.status == 200]
    assert len(refreshes) >= 2  # the sync needed 6 data requests: two refreshes at least
    after = _one(
        pool, "SELECT secret, token_expires_at FROM sync_connection WHERE id = %s", connected.connection_id
    )
    assert after["secret"] != before  # the rotated refresh token was stored
    newest = json.loads(Fernet(KEY.encode()).decrypt(after["secret"].encode()))
    assert newest["refresh_token"] == vendor.grants[-1].refresh


def _grant_from(sealed: str, vendor):
    """The stored grant as the fake vendor's, limited like every new one."""
    from tests.sync.fake_vendor import Grant

    opened = json.loads(Fernet(KEY.encode()).decrypt(sealed.encode()))
    return Grant("whoop", opened["access_token"], opened["refresh_token"], vendor.access_uses)


def test_an_access_token_near_expiry_is_refreshed_before_use(pool, settings, vendor, connect):
    vendor.records["oura"] = scripted.oura(anchor_day(), days=1).records
    connected = connect("oura")
    with rls.system_connection(pool) as conn:
        conn.execute(
            "UPDATE sync_connection SET token_expires_at = now() + interval '1 minute' WHERE id = %s",
            (connected.connection_id,),
        )
    before = len(vendor.seen)
    assert _sync(pool, settings, connected).status == "completed"
    first = vendor.seen[before]
    assert first.path.endswith("/oauth/token") and first.status == 200
    assert all(s.status == 200 for s in vendor.seen[before:])  # no 401 was needed


# -- faults --------------------------------------------------------------------------------


def test_429_storm_no_request_before_retry_after(pool, settings, vendor, connect):
    account = scripted.oura(anchor_day(), days=2)
    vendor.records["oura"] = account.records
    connected = connect("oura")
    vendor.fail("/v2/usercollection/sleep", 429, times=3, headers={"Retry-After": "1"})
    outcome = _sync(pool, settings, connected)
    assert outcome.status == "completed", outcome.reason
    assert _rows(pool, connected.person) == account.rows
    limited = [i for i, s in enumerate(vendor.seen) if s.status == 429]
    assert len(limited) == 3
    for index in limited:
        following = vendor.seen[index + 1]
        assert following.at - vendor.seen[index].at >= 1.0, (index, following)


def test_a_long_retry_after_requeues_the_sync_for_then(pool, settings, vendor, connect):
    vendor.records["oura"] = scripted.oura(anchor_day(), days=1).records
    connected = connect("oura")
    vendor.fail("/v2/usercollection/heartrate", 429, times=1, headers={"Retry-After": "3600"})
    result = tasks.sync_connection(
        _Ctx(pool, settings, job_id=987654), {"connection_id": connected.connection_id}
    )
    assert result["deferred_s"] > 3500
    data_requests = [
        s for s in vendor.seen if "/personal_info" not in s.path and "/usercollection/" in s.path
    ]
    assert len(data_requests) == 1  # nothing after the 429
    job = _one(
        pool,
        "SELECT run_at FROM job WHERE unique_key = %s",
        f"sync:{connected.connection_id}:deferred:987654",
    )
    assert job["run_at"] > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=55)
    assert _all(pool, "SELECT * FROM sync_cursor WHERE connection_id = %s", connected.connection_id) == []
    with pytest.raises(RateLimited):  # the throttle remembers the vendor's wait
        _sync(pool, settings, connected)
    assert len(vendor.seen) == len([*vendor.seen[: vendor.seen.index(data_requests[0]) + 1]])


def test_5xx_storm_retries_then_fails_and_never_moves_the_cursor(pool, settings, vendor, connect):
    account = scripted.oura(anchor_day(), days=2)
    vendor.records["oura"] = account.records
    connected = connect("oura")
    vendor.fail("/v2/usercollection/daily_readiness", 503, times=100)
    with pytest.raises(VendorUnavailable, match="HTTP 503 after 5 attempts"):
        _sync(pool, settings, connected)
    assert len(vendor.requests_to("/daily_readiness")) == 5
    assert _all(pool, "SELECT * FROM sync_cursor WHERE connection_id = %s", connected.connection_id) == []
    assert _rows(pool, connected.person) == set()
    run = _one(
        pool,
        "SELECT * FROM sync_run WHERE connection_id = %s ORDER BY id DESC LIMIT 1",
        connected.connection_id,
    )
    assert run["status"] == "failed" and "503" in run["reason"] and run["import_id"] is None
    vendor.faults.clear()
    vendor.fail("/v2/usercollection/sleep", 502, times=2)  # a shorter outage is ridden out
    assert _sync(pool, settings, connected).status == "completed"
    assert _rows(pool, connected.person) == account.rows


def test_a_timeout_is_retried(pool, settings, vendor, connect, monkeypatch):
    from service.sync import client as sync_client

    vendor.records["whoop"] = scripted.whoop(anchor_day(), days=1).records
    connected = connect("whoop")
    real_send, calls = sync_client.send, []

    def flaky(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 1:
            raise TimeoutError("timed out")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(sync_client, "send", flaky)
    assert _sync(pool, settings, connected).status == "completed"
    assert calls[0] == calls[1]  # the same request, sent again


def test_revoked_grant_marks_needs_reauth_and_tells_subscribed_apps(pool, settings, vendor, connect, client):
    connected = connect("whoop")
    with rls.system_connection(pool) as conn:
        app = accounts.create(conn, role="app", name="Coach app")
        grants.create(
            conn,
            person_id=connected.person,
            grantee_id=str(app["id"]),
            scopes=["read:observations"],
            status="active",
            requested_by=str(app["id"]),
            expires_at=None,
            note=None,
        )
        conn.execute(
            "INSERT INTO webhook_subscription (account_id, person_id, url, secret, "
            "events) VALUES (%s, %s, 'http://127.0.0.1:9/hook', 's', "
            "'{connection.needs_reauth}')",
            (app["id"], connected.person),
        )
    vendor.revoke_all()
    outcome = _sync(pool, settings, connected)
    assert outcome.status == "failed" and "invalid_grant" in outcome.reason
    row = _one(pool, "SELECT status, last_error FROM sync_connection WHERE id = %s", connected.connection_id)
    assert row["status"] == "needs_reauth" and "revoked or has expired" in row["last_error"]
    events = _all(
        pool,
        "SELECT payload FROM job WHERE kind = 'webhook_deliver' AND payload->'event'->>'person_id' = %s",
        connected.person,
    )
    assert [e["payload"]["event"]["type"] for e in events] == ["connection.needs_reauth"]
    assert _sync(pool, settings, connected).status == "skipped"  # until connected again
    listed = client.get(f"/v1/persons/{connected.person}/connections", headers=connected.headers).json()[
        "items"
    ]
    assert listed[0]["status"] == "needs_reauth"


def test_malformed_page_fails_the_sync_and_earlier_pages_are_stored_once(pool, settings, vendor, connect):
    account = scripted.oura(anchor_day())
    vendor.records["oura"] = account.records
    connected = connect("oura")
    vendor.fail("/v2/usercollection/sleep", 200, times=1, skip=1, body=b'{"data": "oops"')
    outcome = _sync(pool, settings, connected)
    assert outcome.status == "failed"
    assert outcome.reason == "Oura /v2/usercollection/sleep: the answer is not JSON"
    stored = _rows(pool, connected.person)
    episodes = _episodes(pool, connected.person)
    heart = {r for r in account.rows if r[0] == "heart_rate"}
    assert stored and stored < account.rows and any(r in stored for r in heart)
    cursors = {
        r["data_type"]
        for r in _all(
            pool, "SELECT data_type FROM sync_cursor WHERE connection_id = %s", connected.connection_id
        )
    }
    assert cursors == {"heartrate"}  # completed before the bad page; sleep starts over
    run = _one(pool, "SELECT * FROM sync_run WHERE id = %s", outcome.run_id)
    assert run["status"] == "failed" and run["import_id"] == outcome.import_id
    again = _sync(pool, settings, connected)
    assert again.status == "completed"
    assert _rows(pool, connected.person) == account.rows
    assert _episodes(pool, connected.person) == account.episodes
    # Stored once: the second sync added exactly what the first could not.
    assert again.inserted == len(account.rows - stored) + len(account.episodes - episodes)


def test_a_page_of_the_wrong_shape_names_the_page(pool, settings, vendor, connect):
    vendor.records["whoop"] = scripted.whoop(anchor_day()).records
    connected = connect("whoop")
    vendor.fail("/developer/v2/recovery", 200, times=1, skip=1, body=b'{"records": {}}')
    outcome = _sync(pool, settings, connected)
    assert outcome.reason == "WHOOP recovery page 2: not an object with a 'records' list"


def test_an_interrupted_sync_is_closed_and_the_next_completes_once(pool, settings, vendor, connect):
    account = scripted.whoop(anchor_day())
    vendor.records["whoop"] = account.records
    connected = connect("whoop")
    with rls.system_connection(pool) as conn:  # what a worker killed mid-import leaves
        stale = conn.execute(
            "INSERT INTO import (person_id, file_name, status) VALUES "
            "(%s, 'whoop_cloud_x.ndjson', 'running') RETURNING id",
            (connected.person,),
        ).fetchone()["id"]
        conn.execute(
            "INSERT INTO sync_run (connection_id, person_id, provider, trigger, "
            "import_id) VALUES (%s, %s, 'whoop', 'schedule', %s)",
            (connected.connection_id, connected.person, stale),
        )
    assert _sync(pool, settings, connected).status == "completed"
    assert _rows(pool, connected.person) == account.rows
    assert _one(pool, "SELECT status FROM import WHERE id = %s", stale)["status"] == "failed"
    runs = _all(
        pool, "SELECT status FROM sync_run WHERE connection_id = %s ORDER BY id", connected.connection_id
    )
    assert [r["status"] for r in runs] == ["failed", "completed"]


# -- schedule ------------------------------------------------------------------------------


def test_sweep_queues_due_connections_once_and_schedules_the_next_with_jitter(
    pool, settings, vendor, connect, monkeypatch
):
    monkeypatch.setenv("VAGUS_SYNC_EVERY_S", "3600")
    monkeypatch.setenv("VAGUS_SYNC_JITTER_S", "600")
    connected = connect("oura")
    with rls.system_connection(pool) as conn:
        conn.execute(
            "UPDATE sync_connection SET next_sync_at = now() - interval '1 second' WHERE id = %s",
            (connected.connection_id,),
        )
    before = dt.datetime.now(dt.UTC)
    assert service.sweep(pool)["queued"] >= 1
    service.sweep(pool)  # a second sweep finds it scheduled later: nothing more for it
    jobs = _all(
        pool,
        "SELECT payload FROM job WHERE kind = 'sync_connection' AND "
        "payload->>'trigger' = 'schedule' AND payload->>'connection_id' = %s",
        str(connected.connection_id),
    )
    assert len(jobs) == 1
    nxt = _one(pool, "SELECT next_sync_at FROM sync_connection WHERE id = %s", connected.connection_id)[
        "next_sync_at"
    ]
    assert before + dt.timedelta(seconds=3600) <= nxt
    assert nxt <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=4200)


# -- push ------------------------------------------------------------------------------------


def _oura_signed(body: bytes, secret: str = "oura-secret") -> dict[str, str]:
    timestamp = "1767225600"
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).hexdigest()
    return {"x-oura-signature": mac.upper(), "x-oura-timestamp": timestamp}


def _whoop_signed(body: bytes, secret: str = "whoop-secret") -> dict[str, str]:
    timestamp = "1767225600000"
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return {"X-WHOOP-Signature": base64.b64encode(mac).decode(), "X-WHOOP-Signature-Timestamp": timestamp}


def _push_jobs(pool, connection_id: int):
    return _all(
        pool,
        "SELECT payload FROM job WHERE kind = 'sync_connection' AND "
        "payload->>'trigger' = 'push' AND payload->>'connection_id' = %s",
        str(connection_id),
    )


def test_push_with_a_bad_signature_is_refused(client, pool, vendor, connect):
    connected = connect("oura")
    body = json.dumps(
        {
            "event_type": "update",
            "data_type": "sleep",
            "object_id": "s1",
            "user_id": "oura-user-1",
            "event_time": "2026-01-01T00:00:00Z",
        }
    ).encode()
    forged = client.post("/v1/sync/push/oura", content=body, headers=_oura_signed(body, secret="guessed"))
    unsigned = client.post("/v1/sync/push/oura", content=body)
    tampered = client.post(
        "/v1/sync/push/oura", content=body.replace(b"s1", b"s2"), headers=_oura_signed(body)
    )
    assert [r.status_code for r in (forged, unsigned, tampered)] == [401, 401, 401]
    assert _push_jobs(pool, connected.connection_id) == []


def test_signed_pushes_queue_a_targeted_sync_once(client, pool, vendor, connect):
    oura = connect("oura")
    body = json.dumps(
        {
            "event_type": "update",
            "data_type": "sleep",
            "object_id": "s1",
            "user_id": "oura-user-1",
            "event_time": "2026-01-01T00:00:00Z",
        }
    ).encode()
    for _ in range(2):  # a vendor retry of the same event queues nothing new
        response = client.post("/v1/sync/push/oura", content=body, headers=_oura_signed(body))
        assert response.status_code == 202
    assert [j["payload"]["data_types"] for j in _push_jobs(pool, oura.connection_id)] == [["sleep"]]
    whoop = connect("whoop")
    body = json.dumps({"user_id": 10129, "id": "rec-1", "type": "recovery.updated", "trace_id": "t"}).encode()
    response = client.post("/v1/sync/push/whoop", content=body, headers=_whoop_signed(body))
    assert response.status_code == 202 and response.json()["queued"] >= 1
    assert [j["payload"]["data_types"] for j in _push_jobs(pool, whoop.connection_id)] == [["recovery"]]


def test_oura_subscription_challenge(client, vendor):
    ok = client.get("/v1/sync/push/oura", params={"verification_token": "oura-verify", "challenge": "abc"})
    assert ok.status_code == 200 and ok.json() == {"challenge": "abc"}
    wrong = client.get("/v1/sync/push/oura", params={"verification_token": "nope", "challenge": "abc"})
    assert wrong.status_code == 401


# -- disconnect, erasure, keys, secrecy ----------------------------------------------------


def _run_revocations(pool, settings) -> list[dict]:
    results = []
    for job in _all(pool, "SELECT id, payload FROM job WHERE kind = 'sync_revoke' AND state = 'queued'"):
        results.append(tasks.sync_revoke(_Ctx(pool, settings), job["payload"]))
        with rls.system_connection(pool) as conn:
            conn.execute("UPDATE job SET state = 'succeeded' WHERE id = %s", (job["id"],))
    return results


@pytest.mark.parametrize("provider", ["whoop", "fitbit"])
def test_disconnect_deletes_the_tokens_and_revokes_at_the_vendor(
    client, pool, settings, vendor, connect, provider
):
    connected = connect(provider)
    access = vendor.grants[-1].access
    response = client.delete(
        f"/v1/persons/{connected.person}/connections/{provider}", headers=connected.headers
    )
    assert response.json() == {"provider": provider, "disconnected": True}
    assert _one(pool, "SELECT 1 AS x FROM sync_connection WHERE id = %s", connected.connection_id) is None
    assert {"provider": provider, "revoked": True} in _run_revocations(pool, settings)
    assert vendor.revoked == [access] and vendor.grants == []
    again = client.delete(f"/v1/persons/{connected.person}/connections/{provider}", headers=connected.headers)
    assert again.status_code == 200 and again.json()["disconnected"] is False


def test_erasure_revokes_and_deletes_every_connection(client, pool, settings, vendor, connect):
    connected = connect("oura")
    connect("whoop", person=connected.person)
    response = client.delete(f"/v1/persons/{connected.person}", headers=connected.headers)
    assert response.status_code in (200, 204), response.text
    assert _all(pool, "SELECT 1 AS x FROM sync_connection WHERE person_id = %s", connected.person) == []
    results = _run_revocations(pool, settings)
    assert sorted(r["provider"] for r in results if r["revoked"]) == ["oura", "whoop"]
    assert vendor.grants == []
    for table in ("sync_run", "sync_cursor", "sync_authorization"):
        assert _all(pool, f"SELECT 1 AS x FROM {table} WHERE person_id = %s", connected.person) == []


def test_a_new_key_in_front_rotates_without_losing_connections(pool, settings, vendor, connect, monkeypatch):
    vendor.records["oura"] = scripted.oura(anchor_day(), days=1).records
    connected = connect("oura")
    newer = Fernet.generate_key().decode()
    monkeypatch.setenv("VAGUS_SYNC_KEYS", f"{newer},{KEY}")
    assert _sync(pool, settings, connected).status == "completed"
    sealed = _one(pool, "SELECT secret FROM sync_connection WHERE id = %s", connected.connection_id)["secret"]
    # The sync re-encrypted the grant under the newest key: the old key can go.
    monkeypatch.setenv("VAGUS_SYNC_KEYS", newer)
    assert Vault(newer).open(sealed)["access_token"] == vendor.grants[-1].access
    assert _sync(pool, settings, connected).status == "completed"
    with pytest.raises(Exception, match="opens with none"):
        Vault(KEY).open(sealed)


def test_tokens_never_reach_logs_exports_or_error_messages(client, pool, settings, vendor, connect, caplog):
    caplog.set_level(logging.DEBUG)
    vendor.records["whoop"] = scripted.whoop(anchor_day()).records
    vendor.access_uses = 2  # refreshes mid-sync
    connected = connect("whoop")
    assert _sync(pool, settings, connected).status == "completed"
    vendor.revoke_all()
    failed = _sync(pool, settings, connected)
    sealed = _one(pool, "SELECT secret FROM sync_connection WHERE id = %s", connected.connection_id)["secret"]
    secrets = {*_every_token(vendor), sealed}
    export = client.get(f"/v1/persons/{connected.person}/export", headers=connected.headers)
    assert export.status_code == 200
    listing = client.get(f"/v1/persons/{connected.person}/connections", headers=connected.headers)
    messages = [failed.reason or ""] + [
        r["reason"] or ""
        for r in _all(pool, "SELECT reason FROM sync_run WHERE person_id = %s", connected.person)
    ]
    jobs = " ".join(
        json.dumps(j, default=str)
        for j in _all(pool, "SELECT payload, result, last_error FROM job WHERE kind LIKE 'sync%%'")
    )
    for secret in secrets - {sealed}:
        assert secret not in jobs  # job payloads, results and errors
    for secret in secrets:
        assert secret not in caplog.text
        assert secret.encode() not in export.content
        assert secret not in listing.text
        assert not any(secret in m for m in messages)
    assert len(secrets) >= 5  # the connect-time grant, two or more refreshed ones, the column
    assert b"sync_connection" in export.content  # the table is exported, its secret is not


def _every_token(vendor) -> set[str]:
    """Every token the fake vendor ever issued (grants are dropped when spent)."""
    return set(vendor.all_issued)


def test_the_worker_runs_the_first_sync_that_connecting_queued(pool, settings, vendor, connect):
    from service.jobs.worker import Worker

    account = scripted.whoop(anchor_day())
    vendor.records["whoop"] = account.records
    connected = connect("whoop")
    worker = Worker(pool, settings, kinds=["sync_connection"])
    query = (
        "SELECT state::text AS state, result FROM job WHERE kind = 'sync_connection' "
        "AND payload->>'connection_id' = %s AND payload->>'trigger' = 'connect'"
    )
    for _ in range(500):  # earlier tests' queued syncs are claimed first
        if _one(pool, query, str(connected.connection_id))["state"] == "succeeded":
            break
        if not worker.run_once():
            break
    job = _one(pool, query, str(connected.connection_id))
    assert job["state"] == "succeeded" and job["result"]["status"] == "completed"
    assert _rows(pool, connected.person) == account.rows


def test_a_refused_request_ends_the_sync_with_the_vendors_reason(pool, settings, vendor, connect):
    account = scripted.oura(anchor_day(), days=2)
    vendor.records["oura"] = account.records
    connected = connect("oura")
    vendor.fail("/v2/usercollection/session", 400, body=b'{"error": "invalid_range"}')
    outcome = _sync(pool, settings, connected)
    assert outcome.status == "failed"
    assert outcome.reason == "Oura /v2/usercollection/session: HTTP 400 invalid_range"
    # The endpoints fetched before it are stored and their cursors move; the session's not.
    cursors = {
        r["data_type"]
        for r in _all(
            pool, "SELECT data_type FROM sync_cursor WHERE connection_id = %s", connected.connection_id
        )
    }
    assert cursors == {"heartrate", "sleep", "daily_readiness"}
    assert {r for r in account.rows if r[0] == "vendor_readiness"} <= _rows(pool, connected.person)
