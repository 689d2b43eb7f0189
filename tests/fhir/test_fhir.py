"""FHIR R4 export: Bundles of Observations that validate with fhir.resources."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db import rls
from tests.support.jobs import START
from tests.support.people import bearer, new_person, patient_token

# fhir.resources 7+ ships R4B (the R4 technical correction) beside R5; Observation,
# Device, Patient and Bundle are the same as R4 for everything exported here.
R4Bundle = pytest.importorskip("fhir.resources.R4B.bundle").Bundle

SAMPLES = {
    "heart_rate": [61.0, 64.0, 70.0],
    "hrv_sdnn": [48.5],
    "hrv_rmssd": [39.2],
    "resting_heart_rate": [55.0],
    "respiratory_rate": [14.5],
    "spo2": [97.0, 98.0],
    "rr_interval": [810.0, 820.0, 805.0, 790.0],
    "vendor_stress": [31.0],
}
EXPECTED_CODES = {
    "heart_rate": "8867-4",
    "hrv_sdnn": "80404-7",
    "resting_heart_rate": "40443-4",
    "respiratory_rate": "9279-1",
    "spo2": "59408-5",
}


@pytest.fixture(scope="module")
def person_with_data(jobs_pool):
    person = new_person(jobs_pool, "Fhir Person")
    with rls.system_connection(jobs_pool) as conn:
        watch = conn.execute(
            "INSERT INTO source (person_id, key, name, kind, device) VALUES "
            "(%s, 'watch', 'Apple Watch', 'watch', 'Watch7,1') RETURNING id",
            (person,),
        ).fetchone()["id"]
        strap = conn.execute(
            "INSERT INTO source (person_id, key, name, kind) VALUES "
            "(%s, 'strap', 'Polar H10', 'chest_strap') RETURNING id",
            (person,),
        ).fetchone()["id"]
        for metric, values in SAMPLES.items():
            source = strap if metric == "rr_interval" else watch
            for i, value in enumerate(values):
                conn.execute(
                    "INSERT INTO observation (person_id, metric, source_id, ts, value) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (person, metric, source, START + dt.timedelta(minutes=i), value),
                )
    return person, bearer(patient_token(jobs_pool, person))


def _fetch_all(client, url, headers, **params):
    pages, next_url = [], url
    while next_url:
        response = client.get(next_url, headers=headers, params=params if not pages else None)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/fhir+json")
        bundle = response.json()
        R4Bundle.model_validate(bundle)  # raises on anything FHIR does not allow
        pages.append(bundle)
        next_url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    return pages


def _observations(pages):
    return [
        e["resource"] for p in pages for e in p["entry"] if e["resource"]["resourceType"] == "Observation"
    ]


def test_bundle_validates_with_codes_units_devices_and_times(jobs_pool, jobs_settings, person_with_data):
    person, headers = person_with_data
    client = TestClient(create_app(jobs_settings, pool=jobs_pool))
    (bundle,) = _fetch_all(client, f"/v1/persons/{person}/fhir", headers)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    observations = _observations([bundle])
    assert len(observations) == sum(len(v) for m, v in SAMPLES.items() if m != "rr_interval")
    by_id = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    for obs in observations:
        assert obs["subject"]["reference"] == f"Patient/{person}"
        device_id = obs["device"]["reference"].split("/", 1)[1]
        assert by_id[device_id]["resourceType"] == "Device"
        assert obs["valueQuantity"]["system"] == "http://unitsofmeasure.org"
        assert obs["effectiveDateTime"].startswith("2024-05-04T07:0")
    hr = [o for o in observations if o["code"]["coding"][0]["code"] == "8867-4"]
    assert [o["valueQuantity"]["value"] for o in hr] == SAMPLES["heart_rate"]
    assert {o["valueQuantity"]["code"] for o in hr} == {"/min"}
    codes = {o["code"]["text"].replace(" ", "_"): o["code"]["coding"][0]["code"] for o in observations}
    assert {m: codes[m] for m in EXPECTED_CODES} == EXPECTED_CODES
    assert codes["hrv_rmssd"] == "hrv_rmssd"  # the Vagus code system, not a guessed LOINC
    spo2 = next(o for o in observations if o["code"]["text"] == "spo2")
    assert spo2["valueQuantity"]["code"] == "%" and spo2["category"][0]["coding"][0]["code"] == "vital-signs"


def test_pages_cover_every_sample_once_and_rr_only_on_request(jobs_pool, jobs_settings, person_with_data):
    person, headers = person_with_data
    client = TestClient(create_app(jobs_settings, pool=jobs_pool))
    pages = _fetch_all(client, f"/v1/persons/{person}/fhir", headers, limit=2)
    observations = _observations(pages)
    assert len(pages) == 5 and len(observations) == 10
    assert len({o["id"] for o in observations}) == 10
    rr = _observations(
        _fetch_all(client, f"/v1/persons/{person}/fhir", headers, metric="rr_interval", limit=3)
    )
    assert [o["valueQuantity"]["value"] for o in rr] == SAMPLES["rr_interval"]
    other = bearer(patient_token(jobs_pool, new_person(jobs_pool)))
    assert client.get(f"/v1/persons/{person}/fhir", headers=other).status_code == 404


def test_sessions_export_as_procedures_with_their_stored_response(jobs_pool, jobs_settings, person_with_data):
    from service.analysis import repository as responses

    person, headers = person_with_data
    body = {
        "algorithm_version": "response-test",
        "metrics": {
            "ln_rmssd": {
                "pre": 3.4,
                "post": 3.7,
                "change": 0.3,
                "control_change": 0.05,
                "control_adjusted_change": 0.25,
            },
            "mean_hr": {
                "pre": 66.0,
                "post": 61.5,
                "change": -4.5,
                "control_change": None,
                "control_adjusted_change": None,
            },
            "hf": {"pre": None, "post": None, "change": None},
        },
    }
    with rls.system_connection(jobs_pool) as conn:
        session = conn.execute(
            "INSERT INTO session (person_id, starts_at, ends_at, modality, body_areas) "
            "VALUES (%s, %s, %s, 'swedish', '{upper_back,neck}') RETURNING id",
            (person, START + dt.timedelta(hours=2), START + dt.timedelta(hours=3)),
        ).fetchone()
        responses.put(
            conn,
            session_id=session["id"],
            person_id=person,
            algorithm_version="response-test",
            version="v",
            body=body,
        )
    client = TestClient(create_app(jobs_settings, pool=jobs_pool))
    (bundle,) = _fetch_all(client, f"/v1/persons/{person}/fhir", headers, sessions="true")
    resources = [e["resource"] for e in bundle["entry"]]
    (procedure,) = [r for r in resources if r["resourceType"] == "Procedure"]
    assert procedure["status"] == "completed" and procedure["code"]["coding"][0]["code"] == "swedish"
    assert procedure["performedPeriod"]["start"] == "2024-05-04T09:00:00Z"
    linked = [r for r in resources if r.get("partOf")]
    assert {r["code"]["coding"][0]["code"] for r in linked} == {"ln_rmssd", "mean_hr"}
    assert all(r["partOf"][0]["reference"] == f"Procedure/{procedure['id']}" for r in linked)
    ln = next(r for r in linked if r["code"]["coding"][0]["code"] == "ln_rmssd")
    parts = {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in ln["component"]}
    assert parts == {
        "pre": 3.4,
        "post": 3.7,
        "change": 0.3,
        "control_change": 0.05,
        "control_adjusted_change": 0.25,
    }
    hr = next(r for r in linked if r["code"]["coding"][0]["code"] == "mean_hr")
    assert {c["valueQuantity"]["code"] for c in hr["component"]} == {"/min"}
