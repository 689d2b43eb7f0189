"""Every page type on the demo data (load times recorded), a phone-sized screen, the local
API docs without any outside request, and a year of heart rate drawn on the client page."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from service.care.repository import sessions
from service.core.db.rls import system_connection
from service.demo import service as demo
from service.demo.service import write_heart_rate
from tests.support.people import import_file, new_person, patient_token
from tests.web.conftest import record_timing, shot
from tests.web.support import accessibility_problems, open_page, series_pixels, sign_in


@pytest.fixture(scope="module")
def demo_data(live_server):
    loaded = demo.load(live_server.pool, live_server.settings.data_dir)
    with system_connection(live_server.pool) as conn:
        first = sessions.in_range(conn, person_id=loaded.person_id)[0]
    return {"person_id": loaded.person_id, "token": loaded.patient_token, "session_id": first["id"]}


def test_every_page_type_on_the_demo_data(live_server, context, demo_data):
    base, person_id = live_server.url, demo_data["person_id"]
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if urlsplit(r.url).hostname not in ("127.0.0.1", None) else None,
    )
    sign_in(page, base, demo_data["token"])
    pages = [
        ("home", f"{base}/", "home"),
        ("trends", f"{base}/persons/{person_id}", "trends-30"),
        ("session", f"{base}/sessions/{demo_data['session_id']}", "session"),
        ("evidence", f"{base}/persons/{person_id}/evidence", "evidence"),
        ("upload", f"{base}/persons/{person_id}/upload", "upload"),
        ("log-session", f"{base}/persons/{person_id}/sessions/new", "log"),
        ("consent", f"{base}/consent", "consent"),
        ("account", f"{base}/account", "account"),
    ]
    api_calls: list[tuple[float, str]] = []
    page.on(
        "requestfinished",
        lambda r: (
            api_calls.append((r.timing["responseEnd"], urlsplit(r.url).path)) if "/v1/" in r.url else None
        ),
    )
    for name, url, loaded in pages:
        open_page(page, url, loaded)  # first visit warms the server's caches
        api_calls.clear()
        ms = open_page(page, url, loaded)
        slowest = max(api_calls, default=(0.0, "no API call"))
        record_timing(
            f"demo {name} page",
            ms,
            f"second visit; slowest API call {slowest[0]:.0f} ms {slowest[1].replace(person_id, '{id}')}",
        )
        shot(page, f"demo-{name}")
        assert accessibility_problems(page) == [], name
    open_page(page, f"{base}/sessions/{demo_data['session_id']}", "session")
    assert series_pixels(page, "#chart-session") > 300
    assert page.locator("#response table").count() == 2
    assert outside == []

    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    open_page(page, f"{base}/", "home")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    phone = context.browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2
    )
    try:
        small = phone.new_page()
        sign_in(small, base, demo_data["token"])
        for name, url, loaded in pages[:3]:
            open_page(small, url, loaded)
            # Usable on a phone: nothing wider than the screen but scrollable tables.
            assert small.evaluate("document.documentElement.scrollWidth") <= 390
            shot(small, f"phone-{name}")
    finally:
        phone.close()


def test_print_stylesheet_hides_navigation(live_server, context, demo_data):
    page = context.new_page()
    sign_in(page, live_server.url, demo_data["token"])
    open_page(page, f"{live_server.url}/sessions/{demo_data['session_id']}", "session")
    page.emulate_media(media="print")
    assert not page.locator("header.top nav").is_visible()
    assert not page.get_by_role("button", name="Print this report").is_visible()
    assert page.locator("#chart-session canvas").is_visible()
    page.pdf(path=str(shot.__globals__["ARTIFACTS"] / "session-report.pdf"))


@pytest.mark.parametrize("path, ready", [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")])
def test_api_docs_are_served_locally(live_server, context, path, ready):
    page = context.new_page()
    hosts, blocked = [], []
    page.on("requestfinished", lambda r: hosts.append(urlsplit(r.url).hostname))
    page.on("requestfailed", lambda r: blocked.append((r.url, r.failure)))
    page.goto(live_server.url + path)
    page.wait_for_selector(ready, timeout=30_000)
    assert "Vagus" in page.inner_text(ready)
    assert set(hosts) <= {"127.0.0.1", None}
    # ReDoc's sidebar credit links an image on its CDN: the page's CSP keeps it from loading.
    assert all(failure == "csp" for _, failure in blocked), blocked
    shot(page, f"docs{path.replace('/', '-')}", full_page=False)


def test_a_year_of_heart_rate_draws_on_the_client_page(live_server, context, tmp_path):
    tz = "Europe/Berlin"
    today = dt.datetime.now(ZoneInfo(tz)).date()
    start = dt.datetime.combine(today - dt.timedelta(days=364), dt.time(0), tzinfo=ZoneInfo(tz))
    person_id = new_person(live_server.pool, name="A year of data", tz=tz)
    path = tmp_path / "year.csv"
    write_heart_rate(path, start, 365)
    # Stored rows, not lines written: the generator steps wall-clock time, so the autumn
    # DST hour repeats and its samples are duplicates.
    n = import_file(live_server.pool, person_id, path).inserted
    assert n > 100_000
    page = context.new_page()
    sign_in(page, live_server.url, patient_token(live_server.pool, person_id))
    open_page(page, f"{live_server.url}/persons/{person_id}", "trends-30")
    page.get_by_role("button", name="1 year").click()
    page.wait_for_selector('body[data-loaded="trends-365"]', state="attached", timeout=180_000)
    page.wait_for_selector("#chart-hr[data-draw-ms]", state="attached")
    chart = page.locator("#chart-hr")
    assert int(chart.get_attribute("data-points")) == n
    assert series_pixels(page, "#chart-hr") > 1000
    record_timing(
        "year of heart rate: chart draw",
        float(chart.get_attribute("data-draw-ms")),
        f"{n:,} points, uPlot, data in hand to canvas drawn",
    )
    record_timing(
        "year of heart rate: NDJSON fetch + parse", float(chart.get_attribute("data-fetch-ms")), f"{n:,} rows"
    )
    shot(page, "trends-year")
