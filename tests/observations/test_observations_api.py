"""/observations reads local times like /sessions, streams honour `limit`, and CSV comes with a
header row, by API and CLI alike (issue 12, points 10 and 12, CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from tests.support.people import bearer, import_file, new_person, patient_token, write_rr_text

START = dt.datetime(2024, 5, 4, 7, 0, tzinfo=dt.UTC)  # 09:00 in Berlin


@pytest.fixture(scope="module")
def person(pool, tmp_path_factory):
    person_id = new_person(pool, name="Observed", tz="Europe/Berlin")
    path = write_rr_text(tmp_path_factory.mktemp("obs") / "rr.txt", n=300)
    import_file(pool, person_id, path, start=START)
    return person_id, bearer(patient_token(pool, person_id))


def test_offset_less_times_are_read_in_the_persons_zone(client, person):
    person_id, me = person
    url = f"/v1/persons/{person_id}/observations"
    local = client.get(
        url,
        params={"metric": "rr_interval", "from": "2024-05-04T09:01:00", "to": "2024-05-04T09:02:00"},
        headers=me,
    )
    utc = client.get(
        url,
        params={"metric": "rr_interval", "from": "2024-05-04T07:01:00Z", "to": "2024-05-04T07:02:00Z"},
        headers=me,
    )
    assert local.status_code == 200, local.text
    assert local.json()["items"] and local.json() == utc.json()
    gap = client.get(url, params={"from": "2024-03-31T02:30:00"}, headers=me)
    assert gap.status_code == 422 and "does not exist in Europe/Berlin" in gap.json()["detail"]


def test_ndjson_honours_limit_and_writes_utc_times_with_z(client, person):
    person_id, me = person
    response = client.get(
        f"/v1/persons/{person_id}/observations", params={"format": "ndjson", "limit": 7}, headers=me
    )
    lines = response.text.strip().splitlines()
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert len(lines) == 7
    assert json.loads(lines[0])["ts"].endswith("Z")
    everything = client.get(f"/v1/persons/{person_id}/observations?format=ndjson", headers=me)
    assert len(everything.text.strip().splitlines()) == 300


def test_csv_has_a_header_row_and_one_line_per_sample(client, person):
    person_id, me = person
    response = client.get(
        f"/v1/persons/{person_id}/observations", params={"format": "csv", "metric": "rr_interval"}, headers=me
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["metric", "ts", "value", "source_id", "source", "context"]
    assert len(rows) == 300 and rows[0]["metric"] == "rr_interval"
    assert rows[0]["ts"] == "2024-05-04T07:00:00.800000Z" and float(rows[0]["value"]) == 800
    limited = client.get(
        f"/v1/persons/{person_id}/observations", params={"format": "csv", "limit": 3}, headers=me
    )
    assert len(limited.text.strip().splitlines()) == 4  # header and three rows
    by_accept = client.get(f"/v1/persons/{person_id}/observations", headers={**me, "Accept": "text/csv"})
    assert by_accept.headers["content-type"].startswith("text/csv")


def test_vagus_export_csv_matches_the_api(vagus_in_process, client, person, tmp_path):
    person_id, me = person
    out = tmp_path / "obs.csv"
    result = vagus_in_process(
        "export", "--person", person_id, "--csv", "--from", "2024-05-04T09:00:00", "-o", str(out)
    )
    assert result.code == 0, result.stderr
    api = client.get(
        f"/v1/persons/{person_id}/observations",
        params={"format": "csv", "from": "2024-05-04T09:00:00"},
        headers=me,
    )
    assert out.read_bytes().decode() == api.text
    bad = vagus_in_process("export", "--person", person_id, "--metric", "steps")
    assert bad.code == 2
