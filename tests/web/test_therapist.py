"""A therapist in the browser sees a client only while the client's consent is live, and
the pages make no request for that client's data without it (every request is recorded)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from service.care.repository import sessions
from service.core.db.rls import system_connection
from service.demo.service import write_heart_rate, write_polar_session
from tests.support.people import import_file, new_person, patient_token
from tests.web.conftest import record_timing, shot
from tests.web.support import open_page, series_pixels, sign_in, therapist

TZ = "Europe/Berlin"


@pytest.fixture(scope="module")
def client(live_server, tmp_path_factory):
    """A client with ten days of watch heart rate, a chest-strap recording and a session."""
    folder = tmp_path_factory.mktemp("client-exports")
    today = dt.datetime.now(ZoneInfo(TZ)).date()
    first = dt.datetime.combine(today - dt.timedelta(days=10), dt.time(0), tzinfo=ZoneInfo(TZ))
    start = dt.datetime.combine(today - dt.timedelta(days=3), dt.time(11), tzinfo=ZoneInfo(TZ))
    person_id = new_person(live_server.pool, name="Casey Client", tz=TZ)
    write_heart_rate(folder / "hr.csv", first, 10)
    write_polar_session(
        folder / "polar.txt",
        start - dt.timedelta(minutes=45),
        2.5,
        seed=3,
        relaxed_from=start + dt.timedelta(hours=1),
    )
    for name in ("hr.csv", "polar.txt"):
        import_file(live_server.pool, person_id, folder / name)
    with system_connection(live_server.pool) as conn:
        session = sessions.create(
            conn,
            person_id=person_id,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            modality="swedish",
            pressure="light",
            body_areas=["upper_back"],
            notes=None,
        )
    return {
        "person_id": person_id,
        "token": patient_token(live_server.pool, person_id),
        "session_id": session["id"],
    }


def _client_requests(urls: list[str], person_id: str, session_id: int) -> list[str]:
    """Requests that touch the client's data: anything naming the person or the session."""
    return [u for u in urls if person_id in u or f"/sessions/{session_id}" in u]


def test_therapist_sees_a_client_only_while_consent_is_live(live_server, browser, client):
    base = live_server.url
    account_id, token = therapist(live_server.pool, "Dr Lee (web)")
    lee = browser.new_context(viewport={"width": 1280, "height": 900})
    patient = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = lee.new_page()
        urls: list[str] = []
        page.on("request", lambda request: urls.append(request.url))
        sign_in(page, base, token)
        open_page(page, f"{base}/", "home")
        assert page.get_by_text("No client has given you access yet.").is_visible()
        assert "Casey Client" not in page.content()
        assert _client_requests(urls, client["person_id"], client["session_id"]) == []
        shot(page, "therapist-home-no-clients")

        # The client grants access on the consent page.
        own = patient.new_page()
        sign_in(own, base, client["token"])
        open_page(own, f"{base}/consent", "consent")
        own.get_by_label("The therapist's account id").fill(account_id)
        own.get_by_label("See sessions and ratings").check()
        own.get_by_role("button", name="Grant access").click()
        own.get_by_role("button", name="Revoke Dr Lee (web)").wait_for()
        shot(own, "consent-granted")

        ms = open_page(page, f"{base}/", "home")
        record_timing("therapist home, one client", ms)
        row = page.locator("#clients tr", has_text="Casey Client")
        assert row.count() == 1
        assert row.locator(".badge").count() == 1  # today's recovery status
        shot(page, "therapist-home")
        row.get_by_role("link", name="Casey Client").click()
        ms = page.wait_for_selector('body[data-loaded="trends-30"]', state="attached") and page.evaluate(
            "performance.now()"
        )
        record_timing("client page, 30 days", ms)
        assert series_pixels(page, "#chart-hr") > 300
        shot(page, "client-page")
        page.locator("#sessions").get_by_role("link", name="Response").click()
        page.wait_for_selector('body[data-loaded="session"]', state="attached")
        assert series_pixels(page, "#chart-session") > 300
        shot(page, "client-session")
        open_page(page, f"{base}/persons/{client['person_id']}/evidence", "evidence")
        shot(page, "client-evidence")

        # The client revokes; from then on nothing of the client is shown or requested.
        open_page(own, f"{base}/consent", "consent")
        own.get_by_role("button", name="Revoke Dr Lee (web)").click()
        own.get_by_text("Revoked Dr Lee (web).").wait_for()
        urls.clear()
        open_page(page, f"{base}/", "home")
        assert page.get_by_text("No client has given you access yet.").is_visible()
        assert "Casey Client" not in page.content()
        assert _client_requests(urls, client["person_id"], client["session_id"]) == []
        assert any(u.endswith("/v1/grants") for u in urls)  # the page did ask, and got no client
        shot(page, "therapist-home-after-revoke")
    finally:
        lee.close()
        patient.close()


def test_cohort_page_for_a_therapist(live_server, context):
    _, token = therapist(live_server.pool, "Dr Cohort (web)")
    page = context.new_page()
    sign_in(page, live_server.url, token)
    open_page(page, f"{live_server.url}/cohort", "cohort")
    assert "0 consenting clients pooled." in page.inner_text("#overview")
    shot(page, "cohort")
