"""Cookie sign-in without a browser: the cookie's flags, CSRF on every cookie-authenticated
write, sign-out, pages without a sign-in, local docs, and the packaged page files."""

from __future__ import annotations

import tomllib
from pathlib import PurePosixPath

import pytest
from fastapi.testclient import TestClient

from service.access import cookies
from service.web import STATIC_DIR, TEMPLATE_DIR
from tests.conftest import REPO_ROOT
from tests.support.people import bearer, new_person, patient_token

SESSION = {"start": "2024-05-04T10:00:00+02:00", "end": "2024-05-04T11:00:00+02:00", "modality": "swedish"}


@pytest.fixture
def browser_client(app):
    """A client of its own: its cookie jar must not leak into other tests' requests."""
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def signed_in(browser_client, pool):
    person_id = new_person(pool, name="Cookie person")
    token = patient_token(pool, person_id)
    browser_client.get("/signin")
    csrf = browser_client.cookies[cookies.CSRF_COOKIE]
    answer = browser_client.post("/signin", data={"token": token, "csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    return {
        "client": browser_client,
        "person_id": person_id,
        "token": token,
        "set_cookie": answer.headers.get_list("set-cookie"),
    }


def test_sign_in_keeps_the_token_in_an_httponly_strict_cookie(signed_in):
    token_cookie = next(c for c in signed_in["set_cookie"] if c.startswith("vagus_token="))
    flags = {part.strip().lower() for part in token_cookie.split(";")}
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    csrf_cookie = next(c for c in signed_in["set_cookie"] if c.startswith("vagus_csrf="))
    assert "httponly" not in csrf_cookie.lower()  # the page's script copies it into a header
    home = signed_in["client"].get("/")
    assert home.status_code == 200 and "Your sessions" in home.text
    assert signed_in["token"] not in home.text


def test_sign_in_refuses_unknown_tokens_and_forms_without_the_csrf_token(browser_client, pool):
    browser_client.get("/signin")
    csrf = browser_client.cookies[cookies.CSRF_COOKIE]
    unknown = browser_client.post("/signin", data={"token": "vgs_" + "x" * 43, "csrf_token": csrf})
    assert unknown.status_code == 401 and cookies.TOKEN_COOKIE not in browser_client.cookies
    token = patient_token(pool, new_person(pool))
    forged = browser_client.post("/signin", data={"token": token, "csrf_token": "forged"})
    assert forged.status_code == 403 and cookies.TOKEN_COOKIE not in browser_client.cookies


def test_cookie_reads_but_writes_only_with_the_csrf_header(signed_in):
    client, person_id = signed_in["client"], signed_in["person_id"]
    assert client.get("/v1/me").json()["person_id"] == person_id
    path = f"/v1/persons/{person_id}/sessions"
    refused = client.post(path, json=SESSION)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("csrf-failed")
    wrong = client.post(path, json=SESSION, headers={cookies.CSRF_HEADER: "not-the-cookie"})
    assert wrong.status_code == 403
    assert client.get(path).json()["items"] == []  # nothing was written
    csrf = client.cookies[cookies.CSRF_COOKIE]
    created = client.post(path, json=SESSION, headers={cookies.CSRF_HEADER: csrf})
    assert created.status_code == 201
    session_id = created.json()["id"]
    assert client.delete(f"/v1/sessions/{session_id}").status_code == 403
    assert client.delete(f"/v1/sessions/{session_id}", headers={cookies.CSRF_HEADER: csrf}).status_code == 200


def test_a_bearer_token_needs_no_csrf_header(app, pool):
    person_id = new_person(pool)
    with TestClient(app) as client:
        answer = client.post(
            f"/v1/persons/{person_id}/sessions", json=SESSION, headers=bearer(patient_token(pool, person_id))
        )
    assert answer.status_code == 201


def test_sign_out_needs_the_form_token_and_clears_both_cookies(signed_in):
    client = signed_in["client"]
    assert client.post("/signout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/v1/me").status_code == 200  # still signed in
    answer = client.post("/signout", data={"csrf_token": client.cookies[cookies.CSRF_COOKIE]})
    assert answer.status_code == 303
    cleared = answer.headers.get_list("set-cookie")
    assert any(c.startswith('vagus_token=""') or c.startswith("vagus_token=;") for c in cleared)
    assert client.get("/v1/me").status_code == 401
    assert client.get("/").headers["location"] == "/signin"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/consent",
        "/account",
        "/cohort",
        "/sessions/1",
        "/persons/00000000-0000-0000-0000-000000000000/evidence",
    ],
)
def test_pages_send_a_visitor_without_a_sign_in_to_sign_in(browser_client, path):
    answer = browser_client.get(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/signin"


def test_pages_allow_scripts_from_this_origin_only(signed_in):
    policy = signed_in["client"].get("/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_a_therapist_has_no_patient_pages(browser_client, pool):
    from service.access import auth
    from service.access.repository import accounts
    from service.core.db.rls import system_connection

    with system_connection(pool) as conn:
        account = accounts.create(conn, role="therapist", name="Dr Pages")
        token, _ = auth.issue_token(conn, account_id=str(account["id"]))
    browser_client.get("/signin")
    browser_client.post(
        "/signin", data={"token": token, "csrf_token": browser_client.cookies[cookies.CSRF_COOKIE]}
    )
    assert "Your clients" in browser_client.get("/").text
    assert browser_client.get("/consent").status_code == 404
    assert browser_client.get("/account").status_code == 404


@pytest.mark.parametrize(
    "path, asset",
    [("/docs", "vendor/swagger-ui/swagger-ui-bundle.js"), ("/redoc", "vendor/redoc/redoc.standalone.js")],
)
def test_api_docs_load_their_assets_from_this_service(browser_client, path, asset):
    page = browser_client.get(path)
    assert page.status_code == 200
    assert f"/static/{asset}" in page.text and "cdn" not in page.text.lower()
    assert browser_client.get(f"/static/{asset}").status_code == 200
    assert browser_client.get("/openapi.json").json()["info"]["title"] == "Vagus"


def test_every_page_file_is_packaged():
    """A ``pip install .`` must carry the templates, scripts, styles and vendored files."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    globs = [PurePosixPath(g) for g in config["tool"]["setuptools"]["package-data"]["service"]]
    service = REPO_ROOT / "service"
    files = [p for root in (TEMPLATE_DIR, STATIC_DIR) for p in root.rglob("*") if p.is_file()]
    assert len(files) > 20
    relative = [PurePosixPath(p.relative_to(service).as_posix()) for p in files]
    unpackaged = [
        str(rel)
        for rel in relative
        if not any(rel.match(str(g)) and len(rel.parts) == len(g.parts) for g in globs)
    ]
    assert unpackaged == []
