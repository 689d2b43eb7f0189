"""A fake Oura and WHOOP cloud on 127.0.0.1, implementing what the sync uses of each API.

OAuth (authorize with PKCE S256, code exchange, refresh with rotating refresh tokens,
revocation), the data endpoints with their documented range parameters and token
paging (a small page size forces several pages), the user endpoints, and scripted
faults: any status with any headers for the next N matching requests, access tokens
that lapse after N uses, grants revoked at the vendor. Every request is logged with
its arrival time (``time.monotonic``), so tests assert on what the vendor saw.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

CLIENTS = {
    "oura": ("oura-client", "oura-secret"),
    "whoop": ("whoop-client", "whoop-secret"),
    "fitbit": ("fitbit-client", "fitbit-secret"),
}
#: Vendors whose token endpoint takes the client's credentials as HTTP Basic only.
BASIC_AUTH = ("fitbit",)
#: Oura's ``/v2/usercollection/<type>`` endpoints and WHOOP's, by the sync's data type.
OURA_TYPES = ("heartrate", "sleep", "daily_readiness", "session")
WHOOP_PATHS = {"sleep": "activity/sleep", "recovery": "recovery"}


@dataclass
class Fault:
    path_contains: str
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    skip: int = 0  # matching requests let through before the fault starts
    delay_s: float = 0.0  # answer normally, but this much later (status ignored)


@dataclass
class Seen:
    at: float
    method: str
    path: str
    query: dict[str, str]
    status: int


@dataclass
class Grant:
    provider: str
    access: str
    refresh: str
    uses_left: int | None


class FakeVendor:
    def __init__(self) -> None:
        self.app = FastAPI()
        self.lock = threading.Lock()
        self.reset()
        self._routes()

    def reset(self) -> None:
        self.records: dict[str, dict[str, Any]] = {"oura": {}, "whoop": {}, "fitbit": {}}
        self.user_ids = {"oura": "oura-user-1", "whoop": 10129, "fitbit": "7QXK2R"}
        self.codes: dict[str, tuple[str, str, str]] = {}  # code -> provider, challenge, uri
        self.grants: list[Grant] = []
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self.page_size = 2
        self.access_ttl_s = 86400
        self.access_uses: int | None = None
        self.revoked: list[str] = []
        self.all_issued: list[str] = []

    # -- test controls -------------------------------------------------------------------

    def fail(
        self,
        path_contains: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        skip: int = 0,
    ) -> None:
        with self.lock:
            self.faults.append(Fault(path_contains, status, times, headers or {}, body, skip))

    def slow(self, path_contains: str, delay_s: float, times: int = 1) -> None:
        """Answer the next ``times`` matching requests normally, ``delay_s`` late."""
        with self.lock:
            self.faults.append(Fault(path_contains, 200, times, delay_s=delay_s))

    def revoke_all(self) -> None:
        """The person removed the app at the vendor: every token stops working."""
        with self.lock:
            self.grants.clear()

    def requests_to(self, path_contains: str) -> list[Seen]:
        return [s for s in self.seen if path_contains in s.path]

    def tokens_issued(self) -> list[str]:
        return [t for g in self.grants for t in (g.access, g.refresh)]

    # -- server --------------------------------------------------------------------------

    def _fault_for(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.path_contains in path:
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    return fault
        return None

    def _grant(self, request: Request, provider: str) -> Grant | None:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip()
        with self.lock:
            for grant in self.grants:
                if grant.access == token and grant.provider == provider:
                    if grant.uses_left is not None:
                        if grant.uses_left <= 0:
                            return None
                        grant.uses_left -= 1
                    return grant
        return None

    def _routes(self) -> None:
        app = self.app
        vendor = self

        @app.middleware("http")
        async def log_and_fault(request: Request, call_next):
            arrived = time.monotonic()
            fault = vendor._fault_for(request.url.path)
            if fault is not None and fault.delay_s:
                await asyncio.sleep(fault.delay_s)
                fault = None
            if fault is not None:
                response: Response = Response(
                    fault.body or b'{"error":"fault"}',
                    status_code=fault.status,
                    headers=fault.headers,
                    media_type="application/json",
                )
            else:
                response = await call_next(request)
            vendor.seen.append(
                Seen(
                    arrived,
                    request.method,
                    request.url.path,
                    dict(request.query_params),
                    response.status_code,
                )
            )
            return response

        @app.get("/{provider}/oauth/authorize")
        def authorize(
            provider: str,
            client_id: str,
            redirect_uri: str,
            state: str,
            code_challenge: str,
            code_challenge_method: str,
            response_type: str,
            scope: str = "",
        ) -> Response:
            if (
                client_id != CLIENTS[provider][0]
                or code_challenge_method != "S256"
                or response_type != "code"
            ):
                return JSONResponse({"error": "invalid_request"}, 400)
            code = secrets.token_urlsafe(12)
            vendor.codes[code] = (provider, code_challenge, redirect_uri)
            query = urllib.parse.urlencode({"code": code, "state": state, "scope": scope})
            return RedirectResponse(f"{redirect_uri}?{query}", status_code=302)

        @app.post("/{provider}/oauth/token")
        async def token(provider: str, request: Request) -> Response:
            form = dict(urllib.parse.parse_qsl((await request.body()).decode()))
            if not _client_ok(provider, form, request.headers.get("authorization", "")):
                return JSONResponse({"error": "invalid_client"}, 401)
            if form.get("grant_type") == "authorization_code":
                issued = vendor.codes.pop(form.get("code", ""), None)
                if issued is None or issued[0] != provider or issued[2] != form.get("redirect_uri"):
                    return JSONResponse({"error": "invalid_grant"}, 400)
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != issued[1]:
                    return JSONResponse(
                        {"error": "invalid_grant", "error_description": "PKCE verifier mismatch"}, 400
                    )
                return JSONResponse(vendor._issue(provider))
            if form.get("grant_type") == "refresh_token":
                with vendor.lock:
                    old = next(
                        (
                            g
                            for g in vendor.grants
                            if g.refresh == form.get("refresh_token") and g.provider == provider
                        ),
                        None,
                    )
                    if old is None:
                        return JSONResponse({"error": "invalid_grant"}, 400)
                    vendor.grants.remove(old)  # refresh tokens rotate: the old one is spent
                return JSONResponse(vendor._issue(provider))
            return JSONResponse({"error": "unsupported_grant_type"}, 400)

        @app.post("/fitbit/oauth/revoke")
        async def fitbit_revoke(request: Request) -> Response:
            form = dict(urllib.parse.parse_qsl((await request.body()).decode()))
            if not _client_ok("fitbit", {}, request.headers.get("authorization", "")):
                return JSONResponse({"errors": [{"errorType": "invalid_client"}]}, 401)
            return vendor._revoke("fitbit", form.get("token", ""))

        @app.get("/fitbit/{rest:path}")
        def fitbit_data(rest: str, request: Request) -> Response:
            if vendor._grant(request, "fitbit") is None:
                return JSONResponse({"errors": [{"errorType": "expired_token"}]}, 401)
            return JSONResponse(vendor._fitbit(rest, dict(request.query_params)))

        @app.get("/oura/oauth/revoke")
        def oura_revoke(access_token: str) -> Response:
            return vendor._revoke("oura", access_token)

        @app.delete("/whoop/developer/v2/user/access")
        def whoop_revoke(request: Request) -> Response:
            header = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            return vendor._revoke("whoop", header)

        @app.get("/oura/v2/usercollection/personal_info")
        def oura_user(request: Request) -> Response:
            if vendor._grant(request, "oura") is None:
                return JSONResponse({"detail": "unauthorized"}, 401)
            return JSONResponse({"id": vendor.user_ids["oura"], "age": 40})

        @app.get("/whoop/developer/v2/user/profile/basic")
        def whoop_user(request: Request) -> Response:
            if vendor._grant(request, "whoop") is None:
                return JSONResponse({"error": "unauthorized"}, 401)
            return JSONResponse({"user_id": vendor.user_ids["whoop"], "first_name": "A"})

        @app.get("/oura/v2/usercollection/{data_type}")
        def oura_data(data_type: str, request: Request) -> Response:
            if vendor._grant(request, "oura") is None:
                return JSONResponse({"detail": "unauthorized"}, 401)
            q = request.query_params
            records = vendor.records["oura"].get(data_type, [])
            if data_type == "heartrate":
                lo, hi = _instant(q["start_datetime"]), _instant(q["end_datetime"])
                chosen = [r for r in records if lo <= _instant(r["timestamp"]) <= hi]
            else:
                lo_day, hi_day = q["start_date"], q["end_date"]
                chosen = [r for r in records if lo_day <= r["day"] <= hi_day]
            page, token = vendor._page(chosen, q.get("next_token"), vendor.page_size)
            return JSONResponse({"data": page, "next_token": token})

        @app.get("/whoop/developer/v2/{collection:path}")
        def whoop_data(collection: str, request: Request) -> Response:
            if vendor._grant(request, "whoop") is None:
                return JSONResponse({"error": "unauthorized"}, 401)
            data_type = next((t for t, p in WHOOP_PATHS.items() if p == collection), None)
            if data_type is None:
                return JSONResponse({"error": "not found"}, 404)
            q = request.query_params
            limit = min(int(q.get("limit", "10")), 25, vendor.page_size)
            lo, hi = _instant(q["start"]), _instant(q["end"])
            key = "start" if data_type == "sleep" else "created_at"
            chosen = [r for r in vendor.records["whoop"].get(data_type, []) if lo <= _instant(r[key]) < hi]
            page, token = vendor._page(chosen, q.get("nextToken"), limit)
            body: dict[str, Any] = {"records": page}
            if token:
                body["next_token"] = token
            return JSONResponse(body)

    def _fitbit(self, rest: str, query: dict[str, str]) -> dict[str, Any]:
        """The Fitbit endpoints the sync uses, by path (dates in the path, inclusive)."""
        data = self.records["fitbit"]
        parts = rest.removesuffix(".json").split("/")
        if parts[:3] == ["1", "user", "-"] and parts[3] == "profile":
            return {"user": {"encodedId": self.user_ids["fitbit"]}}
        if parts[3:5] == ["activities", "heart"] and parts[-2:] == ["1d", "1min"]:
            day = parts[6]
            assert query.get("timezone") == "UTC"
            return {
                "activities-heart": [{"dateTime": day, "value": {}}],
                "activities-heart-intraday": {
                    "dataset": data.get("intraday", {}).get(day, []),
                    "datasetInterval": 1,
                    "datasetType": "minute",
                },
            }
        start, end = parts[-2], parts[-1]
        if parts[3:5] == ["activities", "heart"]:
            return {
                "activities-heart": [d for d in data.get("heart_daily", []) if start <= d["dateTime"] <= end]
            }
        if parts[3] == "hrv":
            return {"hrv": [d for d in data.get("hrv", []) if start <= d["dateTime"] <= end]}
        if parts[0] == "1.2" and parts[3] == "sleep":
            return {"sleep": [d for d in data.get("sleep", []) if start <= d["dateOfSleep"] <= end]}
        raise AssertionError(f"the fake Fitbit has no {rest}")

    def _issue(self, provider: str) -> dict[str, Any]:
        grant = Grant(
            provider, "acc-" + secrets.token_urlsafe(16), "ref-" + secrets.token_urlsafe(16), self.access_uses
        )
        with self.lock:
            self.grants.append(grant)
            self.all_issued += [grant.access, grant.refresh]
        return {
            "access_token": grant.access,
            "refresh_token": grant.refresh,
            "token_type": "bearer",
            "expires_in": self.access_ttl_s,
        }

    def _revoke(self, provider: str, access: str) -> Response:
        with self.lock:
            grant = next((g for g in self.grants if g.access == access and g.provider == provider), None)
            if grant is None:
                return JSONResponse({"error": "invalid_token"}, 401)
            self.grants.remove(grant)
            self.revoked.append(access)
        return Response(status_code=200 if provider == "oura" else 204)

    @staticmethod
    def _page(
        records: list[dict[str, Any]], token: str | None, size: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        offset = int(base64.urlsafe_b64decode(token).decode()) if token else 0
        page = records[offset : offset + size]
        more = offset + size < len(records)
        return page, base64.urlsafe_b64encode(str(offset + size).encode()).decode() if more else None


def _client_ok(provider: str, form: dict[str, str], authorization: str) -> bool:
    """The client's credentials: HTTP Basic for Fitbit, form fields for the others."""
    if provider in BASIC_AUTH:
        expected = base64.b64encode(":".join(CLIENTS[provider]).encode()).decode()
        return authorization == f"Basic {expected}"
    return (form.get("client_id"), form.get("client_secret")) == CLIENTS[provider]


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Running:
    """The fake vendor served by uvicorn in a thread on a free 127.0.0.1 port."""

    def __init__(self, vendor: FakeVendor) -> None:
        self.vendor = vendor
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        config = uvicorn.Config(
            vendor.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Running:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake vendor did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def serve() -> Iterator[Running]:
    with Running(FakeVendor()) as running:
        yield running
