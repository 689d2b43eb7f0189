"""The pages: sign-in and sign-out, and one shell per page type that its script fills from the API.

A page route only decides who is signed in (the same token check as the API) and
which template fits the role; every figure on a page comes from the JSON API,
called by the page's script with the sign-in cookie, so a page can never show
what the API would refuse its caller.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.access import cookies
from service.access.auth import Principal, authenticate
from service.web.templating import templates

router = APIRouter(include_in_schema=False)

#: Pages load scripts, styles and data from this origin only.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _principal(request: Request) -> Principal | None:
    token = request.cookies.get(cookies.TOKEN_COOKIE)
    if not token:
        return None
    with request.app.state.pool.connection() as conn:
        return authenticate(conn, token)


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    csrf = request.cookies.get(cookies.CSRF_COOKIE) or cookies.new_csrf_token()
    response = templates.TemplateResponse(request, template, {"csrf": csrf, **context}, status_code=status)
    if cookies.CSRF_COOKIE not in request.cookies:
        cookies.set_csrf_cookie(response, request, csrf)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(
    request: Request, template: str, *, roles: tuple[str, ...] | None = None, **context: Any
) -> Response:
    """A signed-in page, or a redirect to sign-in; 404 for a role the page is not for."""
    principal = _principal(request)
    if principal is None:
        return RedirectResponse("/signin", status_code=303)
    if roles is not None and principal.role not in roles:
        return _render(request, "not_found.html", status=404, me=principal)
    return _render(request, template, me=principal, **context)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request) -> Response:
    return _render(request, "signin.html", me=None)


@router.post("/signin", response_class=HTMLResponse)
def signin(
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=200)],
) -> Response:
    if not cookies.csrf_matches(request, csrf_token):
        return _render(
            request, "signin.html", status=403, me=None, error="The form expired: please sign in again."
        )
    with request.app.state.pool.connection() as conn:
        principal = authenticate(conn, token.strip())
    if principal is None:
        return _render(
            request, "signin.html", status=401, me=None, error="That token is unknown, expired or revoked."
        )
    response = RedirectResponse("/", status_code=303)
    cookies.sign_in(response, request, token.strip())
    return response


@router.post("/signout")
def signout(request: Request, csrf_token: Annotated[str, Form(max_length=200)]) -> Response:
    if not cookies.csrf_matches(request, csrf_token):
        return _render(
            request,
            "not_found.html",
            status=403,
            me=None,
            error="The form expired: reload the page and sign out again.",
        )
    response = RedirectResponse("/signin?signed_out=1", status_code=303)
    cookies.sign_out(response)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    principal = _principal(request)
    if principal is None:
        return RedirectResponse("/signin", status_code=303)
    template = {"patient": "patient_home.html", "therapist": "therapist_home.html"}.get(
        principal.role, "other_home.html"
    )
    return _render(request, template, me=principal, page="home")


@router.get("/persons/{person_id}", response_class=HTMLResponse)
def person(request: Request, person_id: UUID) -> Response:
    return _page(request, "person.html", person_id=person_id, page="trends")


@router.get("/persons/{person_id}/evidence", response_class=HTMLResponse)
def evidence(request: Request, person_id: UUID) -> Response:
    return _page(request, "evidence.html", person_id=person_id, page="evidence")


@router.get("/persons/{person_id}/upload", response_class=HTMLResponse)
def upload(request: Request, person_id: UUID) -> Response:
    return _page(request, "upload.html", person_id=person_id, page="upload")


@router.get("/persons/{person_id}/sessions/new", response_class=HTMLResponse)
def new_session(request: Request, person_id: UUID) -> Response:
    return _page(request, "session_new.html", person_id=person_id, page="log")


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def session(request: Request, session_id: int) -> Response:
    return _page(request, "session.html", session_id=session_id, page="session")


@router.get("/consent", response_class=HTMLResponse)
def consent(request: Request) -> Response:
    return _page(request, "consent.html", roles=("patient",), page="consent")


@router.get("/account", response_class=HTMLResponse)
def account(request: Request) -> Response:
    return _page(request, "account.html", roles=("patient",), page="account")


@router.get("/cohort", response_class=HTMLResponse)
def cohort(request: Request) -> Response:
    return _page(request, "cohort.html", roles=("therapist",), page="cohort")


def sign_in_link(base_url: str, token: str) -> str:
    """A link that signs in with ``token`` (for ``vagus demo``): the token rides in the URL
    fragment, which the browser never sends to the server; the sign-in page submits it."""
    return f"{base_url.rstrip('/')}/signin#token={token}"
