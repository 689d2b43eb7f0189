"""The demo person: its evidence says what is measurable, how, and what the literature found."""

from __future__ import annotations

import pytest

from tests.support.people import bearer


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-data")


@pytest.fixture(scope="module")
def demo(pool, data_dir):
    from service.demo import service as demo

    return demo.load(pool, data_dir)


def test_demo_evidence_states_kinds_and_shows_literature(client, demo):
    assert all(o.status == "completed" for o in demo.imports)
    response = client.get(f"/v1/persons/{demo.person_id}/evidence", headers=bearer(demo.patient_token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["n_sessions"] == 8
    claims = {c["claim"]: c for c in body["claims"]}
    kinds = {name: c["evidence_kind"] for name, c in claims.items()}
    assert kinds["acute_stress"] == "wearable" and kinds["pain"] == "self_report"
    assert kinds["stress_hormones"] == "lab"
    assert {kinds[n] for n in ("immune", "circulation", "posture", "flexibility")} == {"none"}
    acute = claims["acute_stress"]
    assert acute["n_sessions"] == 8 and acute["estimate"] is not None
    assert acute["ci_low"] <= acute["estimate"] <= acute["ci_high"]
    assert acute["literature"] and all(ref["citation"] for ref in acute["literature"])
    assert claims["pain"]["n_sessions"] == 8 and claims["pain"]["estimate"] < 0
    assert claims["immune"]["verdict"] == "not measured"
    assert "cannot" in claims["immune"]["summary"].lower()


def test_demo_rest_sessions_make_the_evidence_massage_versus_resting(client, demo):
    body = client.get(f"/v1/persons/{demo.person_id}/evidence", headers=bearer(demo.patient_token)).json()
    assert body["n_rest_sessions"] == 6
    acute = next(c for c in body["claims"] if c["claim"] == "acute_stress")
    assert acute["comparison"] == "rest" and acute["n_rest_sessions"] >= 4
    assert "compared with resting" in acute["summary"]
    # One cortisol pair is far below six: measured, but insufficient, and never "not measured".
    hormones = next(c for c in body["claims"] if c["claim"] == "stress_hormones")
    assert hormones["verdict"] == "insufficient data" and hormones["estimate"] is None
    # The demo person follows an n-of-1 trial plan; the evidence reports its adherence.
    adherence = body["trial_adherence"]
    assert adherence is not None and adherence["massage"]["planned"] > 0
    assert adherence["rest"]["planned"] > 0


def test_demo_therapist_follows_the_patient_with_consent(client, demo):
    """`vagus demo` signs a therapist in too: the patient has granted them consent."""
    clients = client.get("/v1/clients", headers=bearer(demo.therapist_token))
    assert clients.status_code == 200, clients.text
    assert [c["person_id"] for c in clients.json()["items"]] == [demo.person_id]
    evidence = client.get(f"/v1/persons/{demo.person_id}/evidence", headers=bearer(demo.therapist_token))
    assert evidence.status_code == 200


def test_running_the_demo_again_adds_nothing(pool, demo, data_dir):
    from service.care.repository import sessions
    from service.core.db.rls import system_connection
    from service.demo import service as demo_module

    again = demo_module.load(pool, data_dir)
    assert again.person_id == demo.person_id
    assert sum(o.inserted for o in again.imports) == 0
    assert sum(o.duplicates for o in again.imports) == sum(o.inserted for o in demo.imports)
    with system_connection(pool) as conn:
        assert len(sessions.in_range(conn, person_id=demo.person_id)) == (
            demo_module.SESSION_DAYS + demo_module.REST_DAYS
        )


def test_a_demo_rerun_revokes_the_previous_demo_tokens(client, demo, pool, data_dir):
    from service.access.repository import accounts
    from service.core.db.rls import system_connection
    from service.demo import service as demo_service

    again = demo_service.load(pool, data_dir)
    assert again.person_id == demo.person_id
    for old, new in ((demo.patient_token, again.patient_token), (demo.admin_token, again.admin_token)):
        assert client.get("/v1/me", headers=bearer(old)).status_code == 401
        assert client.get("/v1/me", headers=bearer(new)).status_code == 200
    admin = client.get("/v1/me", headers=bearer(again.admin_token)).json()["account_id"]
    with system_connection(pool) as conn:
        patient = accounts.patient_account(conn, demo.person_id)
        assert len(accounts.live_tokens_named(conn, str(patient["id"]), "demo")) == 1
        assert len(accounts.live_tokens_named(conn, admin, "demo")) == 1
        assert (
            conn.execute(
                "SELECT count(*) AS n FROM account WHERE role = 'admin' AND name = 'demo admin'"
            ).fetchone()["n"]
            == 1
        )
