"""A patient in the browser: sign in, upload (drop and choose) and watch the imports finish,
log a session, see its chart drawn, the evidence, trends, consent and account pages."""

from __future__ import annotations

import datetime as dt
import zipfile
from zoneinfo import ZoneInfo

import pytest

from service.demo.service import write_heart_rate, write_polar_session
from tests.support.people import new_person, patient_token
from tests.web.conftest import record_timing, shot
from tests.web.support import drop_file, local_input, open_page, series_pixels, sign_in, wait_loaded

TZ = "Europe/Berlin"


@pytest.fixture(scope="module")
def patient(live_server, tmp_path_factory):
    """A person with a token, and the exports to upload: 14 days of watch heart rate and a
    chest-strap recording around an afternoon session five days ago."""
    folder = tmp_path_factory.mktemp("exports")
    today = dt.datetime.now(ZoneInfo(TZ)).date()
    first = dt.datetime.combine(today - dt.timedelta(days=14), dt.time(0), tzinfo=ZoneInfo(TZ))
    session_start = dt.datetime.combine(today - dt.timedelta(days=5), dt.time(15), tzinfo=ZoneInfo(TZ))
    session_end = session_start + dt.timedelta(hours=1)
    heart_rate = folder / "watch-heart-rate.csv"
    write_heart_rate(heart_rate, first, 14)
    polar = folder / f"polar-h10-{session_start:%Y-%m-%d}.txt"
    write_polar_session(
        polar, session_start - dt.timedelta(minutes=45), 2.5, seed=11, relaxed_from=session_end
    )
    person_id = new_person(live_server.pool, name="Robin Web", tz=TZ)
    return {
        "person_id": person_id,
        "token": patient_token(live_server.pool, person_id),
        "files": [heart_rate, polar],
        "start": session_start,
        "end": session_end,
    }


def _api(context, base, token, path):
    response = context.request.get(base + path, headers={"Authorization": f"Bearer {token}"})
    assert response.ok, response.text()
    return response.json()


def _watch_import(page, context, base, token) -> dict:
    """Wait for the page to show the import's end; the shown counts must be the API's."""
    page.wait_for_selector('.counts[data-status="completed"]', timeout=120_000)
    import_id = page.get_attribute(".counts", "data-import-id")
    record = _api(context, base, token, f"/v1/imports/{import_id}")
    assert record["status"] == "completed"
    shown = page.inner_text(".counts")
    assert f"{record['inserted']:,}" in shown.replace("\u202f", ",")
    assert page.get_attribute("#progress", "value") == "100"
    return record


def test_patient_uploads_logs_a_session_and_sees_its_chart(live_server, context, patient):
    base, token, person_id = live_server.url, patient["token"], patient["person_id"]
    page = context.new_page()
    sign_in(page, base, token)
    record_timing("patient home, empty account", wait_loaded(page, "home"))
    assert page.get_by_text("Nothing imported yet.").is_visible()

    # Upload: the heart rate by drag and drop, the chest-strap file through the file picker.
    open_page(page, f"{base}/persons/{person_id}/upload", "upload")
    drop_file(page, "#dropzone", patient["files"][0])
    first = _watch_import(page, context, base, token)
    assert first["inserted"] > 4000  # 14 days every 5 minutes
    shot(page, "upload-finished")
    page.set_input_files("#file", str(patient["files"][1]))
    page.wait_for_function(
        """(previous) => { const c = document.querySelector('.counts');
                           return c && c.dataset.importId !== previous && c.dataset.status === 'completed'; }""",
        arg=str(first["id"]),
        timeout=120_000,
    )
    second = _watch_import(page, context, base, token)
    assert second["connector"] and second["inserted"] > 5000  # 2.5 h of beats

    # Log the session with ratings; the form leads to the session's page.
    open_page(page, f"{base}/persons/{person_id}/sessions/new", "log")
    page.get_by_label("Start").fill(local_input(patient["start"]))
    page.get_by_label("End").fill(local_input(patient["end"]))
    page.get_by_label("Kind of massage").select_option("deep_tissue")
    page.get_by_label("neck").check()
    page.get_by_label("Pain before").fill("6")
    page.get_by_label("Pain after").fill("3")
    page.get_by_role("button", name="Save session").click()
    page.wait_for_url(f"{base}/sessions/*")
    session_ms = wait_loaded(page, "session")
    record_timing("session page (log form to chart drawn)", session_ms)
    session_id = page.url.rsplit("/", 1)[1]
    session = _api(context, base, token, f"/v1/sessions/{session_id}")
    assert session["modality"] == "deep_tissue" and session["body_areas"] == ["neck"]
    reports = _api(context, base, token, f"/v1/persons/{person_id}/self-reports")["items"]
    assert sorted((r["phase"], r["value"]) for r in reports) == [("after", 3.0), ("before", 6.0)]
    assert page.locator("#ratings tbody tr").all_inner_texts() == ["pain\t6\t3"]

    # The chart: a canvas with the heart-rate line drawn on it, over the recorded beats.
    assert series_pixels(page, "#chart-session") > 300
    # The chart spans the windows, not the whole recording: over an hour of beats, at most
    # as many as stored.
    assert 4000 < int(page.get_attribute("#chart-session", "data-points")) <= second["inserted"]
    response = _api(context, base, token, f"/v1/sessions/{session_id}/response")
    table = page.inner_text("#response")
    assert "bpm" in table and "Mean heart rate" in table
    pre = response["metrics"]["mean_hr"]["pre"]
    assert pre is not None and f"{pre:.1f}".rstrip("0").rstrip(".") in table
    assert page.inner_text("#summary").strip()
    shot(page, "session")

    # Home now lists the session and the latest import.
    open_page(page, f"{base}/", "home")
    assert page.locator("#sessions a", has_text="Response").count() == 1
    assert patient["files"][1].name in page.inner_text("#latest-import")
    shot(page, "patient-home")


def test_evidence_page_shows_the_hormone_claims_verdict(live_server, context, patient):
    base, token, person_id = live_server.url, patient["token"], patient["person_id"]
    page = context.new_page()
    sign_in(page, base, token)
    ms = open_page(page, f"{base}/persons/{person_id}/evidence", "evidence")
    record_timing("evidence page, patient without lab results", ms)
    claims = {
        c["claim"]: c for c in _api(context, base, token, f"/v1/persons/{person_id}/evidence")["claims"]
    }
    hormone = claims["stress_hormones"]
    card = page.locator('[data-claim="stress_hormones"]')
    assert card.locator(".badge").inner_text() == hormone["verdict"]
    assert hormone["n_sessions"] == 0 or hormone["evidence_kind"] != "lab"
    if hormone["verdict"] == "not measured" or hormone["evidence_kind"] == "none":
        assert "What would measure it" in card.inner_text()
        assert "cortisol" in card.inner_text().lower()
    assert page.locator("section.claim").count() == len(claims)
    shot(page, "evidence")


def test_trends_consent_and_account_pages(live_server, context, patient):
    base, token, person_id = live_server.url, patient["token"], patient["person_id"]
    page = context.new_page()
    sign_in(page, base, token)
    ms = open_page(page, f"{base}/persons/{person_id}", "trends-30")
    record_timing("trends page, 30 days (14 with data)", ms)
    assert series_pixels(page, "#chart-hr") > 300
    shot(page, "trends")
    open_page(page, f"{base}/consent", "consent")
    assert page.get_by_text("Nobody else has access.").is_visible()
    shot(page, "consent")
    open_page(page, f"{base}/account", "account")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download (JSON, zip)").click()
    path = download.value.path()
    with zipfile.ZipFile(path) as archive:
        assert any("session" in name for name in archive.namelist())
    shot(page, "account")


def test_patient_deletes_the_account_after_confirming(live_server, context):
    person_id = new_person(live_server.pool, name="Leaving soon", tz=TZ)
    token = patient_token(live_server.pool, person_id)
    page = context.new_page()
    sign_in(page, live_server.url, token)
    open_page(page, f"{live_server.url}/account", "account")
    page.get_by_role("button", name="Delete my account and data").click()
    assert page.get_by_text("Type delete to confirm.").is_visible()  # nothing sent yet
    assert _api(context, live_server.url, token, f"/v1/persons/{person_id}")["id"] == person_id
    page.get_by_label("Type delete to confirm").fill("delete")
    page.get_by_role("button", name="Delete my account and data").click()
    page.wait_for_url(f"{live_server.url}/signin?signed_out=1")
    gone = context.request.get(
        f"{live_server.url}/v1/persons/{person_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert gone.status == 401  # the person's own tokens died with it
