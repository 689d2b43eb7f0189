"""Cookie sign-in for the web app, and its CSRF check.

The API token a person signs in with is kept in an HttpOnly, SameSite=Strict
cookie, so page scripts never see it. Cookie-authenticated requests that change
state must also send the CSRF token (a second, script-readable cookie) in the
``X-CSRF-Token`` header: a double submit that a cross-site page cannot make,
because it can neither read the cookie nor (SameSite) send it.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

TOKEN_COOKIE = "vagus_token"
CSRF_COOKIE = "vagus_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
#: Methods that never change state: no CSRF token needed.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfError(Exception):
    """A cookie-authenticated, state-changing request without the matching CSRF token."""


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(request: Request, sent: str | None) -> bool:
    expected = request.cookies.get(CSRF_COOKIE)
    return bool(expected and sent and hmac.compare_digest(expected, sent))


def api_token(request: Request) -> str | None:
    """The API token of a signed-in browser, or None when there is no sign-in cookie.

    Raises :class:`CsrfError` for a state-changing request whose ``X-CSRF-Token``
    header does not match the CSRF cookie.
    """
    token = request.cookies.get(TOKEN_COOKIE)
    if token is None:
        return None
    if request.method not in SAFE_METHODS and not csrf_matches(request, request.headers.get(CSRF_HEADER)):
        raise CsrfError(
            "a signed-in browser must send the X-CSRF-Token header with every request that changes something"
        )
    return token


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_csrf_cookie(response: Response, request: Request, value: str) -> None:
    # Readable by the page's script (it copies it into the header); useless to other sites.
    response.set_cookie(
        CSRF_COOKIE, value, httponly=False, samesite="strict", secure=_secure(request), path="/"
    )


def sign_in(response: Response, request: Request, token: str) -> None:
    """Keep ``token`` in the HttpOnly cookie and start a fresh CSRF token."""
    response.set_cookie(
        TOKEN_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/"
    )
    set_csrf_cookie(response, request, new_csrf_token())


def sign_out(response: Response) -> None:
    response.delete_cookie(TOKEN_COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")
