"""Audit log, export and erasure through the API."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from service.core.db import connect, rls
from tests.support.access import account_token, grant
from tests.support.people import (
    admin_token,
    bearer,
    new_person,
    patient_token,
    write_rr_text,
)

START = "2024-05-04T07:00:00Z"


@pytest.fixture
def loaded(pool, client, tmp_path):
    """A person with samples (through the real ingest path), a session, a self-report,
    a lab result, an uploaded file, a grant and an audit trail."""
    import datetime as dt

    from tests.imports.test_ingest import _import

    person = new_person(pool, "Private person")
    headers = bearer(patient_token(pool, person))
    outcome = _import(
        pool,
        person,
        write_rr_text(tmp_path / "rr.txt", n=400),
        start=dt.datetime(2024, 5, 4, 7, tzinfo=dt.UTC),
    )
    assert outcome.inserted == 400
    upload = client.post(
        f"/v1/persons/{person}/imports",
        headers=headers,
        params={"filename": "upload.txt", "start": START},
        content=b"900\n" * 60,
    )
    assert upload.status_code in (201, 202)
    with rls.system_connection(pool) as conn:
        session = conn.execute(
            "INSERT INTO session (person_id, starts_at, ends_at, modality) VALUES "
            "(%s, %s, %s, 'swedish') RETURNING id",
            (person, "2024-05-04T15:00Z", "2024-05-04T16:00Z"),
        ).fetchone()["id"]
        conn.execute(
            "INSERT INTO self_report (person_id, ts, kind, value, session_id, phase) "
            "VALUES (%s, '2024-05-04T16:05Z', 'pain', 3, %s, 'after')",
            (person, session),
        )
        conn.execute(
            "INSERT INTO lab_result (person_id, ts, analyte, value, unit, value_nmol_l) "
            "VALUES (%s, '2024-05-04T16:10Z', 'cortisol', 12.5, 'nmol/L', 12.5)",
            (person,),
        )
    therapist, token = account_token(pool, "therapist", "Dr Audit")
    grant(pool, person, therapist, ["read:observations"])
    therapist_headers = {**bearer(token), "User-Agent": "clinic-app/1.0"}
    assert client.get(f"/v1/persons/{person}/observations", headers=therapist_headers).status_code == 200
    return person, headers, therapist


def _samples(pool, person: str) -> int:
    with rls.system_connection(pool) as conn:
        return conn.execute(
            "SELECT count(*) AS n FROM observation WHERE person_id = %s", (person,)
        ).fetchone()["n"]


def test_reads_by_others_are_audited_and_self_reads_are_not(client, pool, loaded):
    person, headers, therapist = loaded
    client.get(f"/v1/persons/{person}/observations", headers=headers)  # self: not audited
    events = client.get(f"/v1/persons/{person}/audit", headers=headers).json()["items"]
    assert [(e["actor_account_id"], e["action"], e["user_agent"]) for e in events] == [
        (therapist, "read:observations", "clinic-app/1.0")
    ]
    event = events[0]
    assert event["actor_role"] == "therapist" and event["client_ip"]
    assert event["resource"] == f"GET /v1/persons/{person}/observations"
    admin = bearer(admin_token(pool))
    client.get(f"/v1/persons/{person}", headers=admin)
    events = client.get(f"/v1/persons/{person}/audit", headers=headers).json()["items"]
    assert events[0]["actor_role"] == "admin" and events[0]["action"] == "read:person"


def test_export_holds_everything_as_json(client, pool, loaded):
    person, headers, therapist = loaded
    response = client.get(f"/v1/persons/{person}/export", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    files = {name: json.loads(archive.read(name)) for name in archive.namelist()}
    assert files["person.json"]["name"] == "Private person"
    assert len(files["observation.json"]) == _samples(pool, person) >= 400
    for table in ("session", "self_report", "lab_result", "source", "import", "consent_grant"):
        assert files[f"{table}.json"], table
    assert files["consent_grant.json"][0]["grantee_id"] == therapist
    assert files["audit.json"][0]["action"] == "read:observations"
    assert all("stored_path" not in row for row in files["import.json"])
    assert "manifest.json" in files


def test_erasure_leaves_nothing_of_the_person(client, pool, loaded, settings, database_url):
    person, headers, _ = loaded
    other = new_person(pool, "Bystander")
    assert (settings.upload_dir / person).is_dir()
    samples = _samples(pool, person)
    response = client.delete(f"/v1/persons/{person}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["rows_deleted"]["observation"] == samples >= 400
    # Every table, view or materialised view with a person_id column, found in the catalogue.
    with rls.system_connection(pool) as conn:
        relations = conn.execute(
            """SELECT c.relname, c.relkind, c.relispopulated,
                      has_table_privilege(c.oid, 'SELECT') AS readable FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'person_id'
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm')"""
        ).fetchall()
        assert len(relations) >= 10
        for rel in relations:
            if rel["relkind"] == "m" and not rel["relispopulated"]:
                continue
            order = " ORDER BY id" if rel["relname"] == "audit_event" else ""
            query = f'SELECT * FROM "{rel["relname"]}" WHERE person_id = %s{order}'
            if not rel["readable"]:  # the rollup and the samples' table: read them as the owner
                with connect.connect(database_url) as owner:
                    rows = owner.execute(query, (person,)).fetchall()
            else:
                rows = conn.execute(query, (person,)).fetchall()
            if rel["relname"] == "audit_event":
                # Who accessed what, and the tombstone: no health data columns exist here.
                assert rows[-1]["action"] == "person.erased"
                assert set(rows[0]) == {
                    "id",
                    "at",
                    "actor_account_id",
                    "actor_role",
                    "person_id",
                    "action",
                    "resource",
                    "client_ip",
                    "user_agent",
                }
            else:
                assert rows == [], rel["relname"]
        assert conn.execute("SELECT count(*) AS n FROM person WHERE id = %s", (person,)).fetchone()["n"] == 0
        assert conn.execute("SELECT count(*) AS n FROM person WHERE id = %s", (other,)).fetchone()["n"] == 1
    assert not (settings.upload_dir / person).exists()
    # The person's own token died with the account.
    assert client.get(f"/v1/persons/{person}", headers=headers).status_code == 401


def test_only_the_person_or_an_admin_exports_or_erases(client, pool, loaded):
    person, _, _ = loaded
    stranger = bearer(patient_token(pool, new_person(pool, "Stranger")))
    assert client.get(f"/v1/persons/{person}/export", headers=stranger).status_code == 404
    assert client.delete(f"/v1/persons/{person}", headers=stranger).status_code == 404
    admin = bearer(admin_token(pool))
    assert client.get(f"/v1/persons/{person}/export", headers=admin).status_code == 200
    assert client.delete(f"/v1/persons/{person}", headers=admin).status_code == 200


def test_audit_pages_and_refuses_foreign_cursors(client, pool, loaded):
    import base64

    person, headers, _ = loaded
    admin = bearer(admin_token(pool))
    for _ in range(3):
        client.get(f"/v1/persons/{person}", headers=admin)
    first = client.get(f"/v1/persons/{person}/audit", params={"limit": 2}, headers=headers).json()
    rest = client.get(
        f"/v1/persons/{person}/audit", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    ids = [e["id"] for e in first["items"] + rest["items"]]
    assert len(ids) == 4 and ids == sorted(ids, reverse=True)
    forged = base64.urlsafe_b64encode(b'["x"]').decode().rstrip("=")
    response = client.get(f"/v1/persons/{person}/audit", params={"cursor": forged}, headers=headers)
    assert response.status_code == 400
