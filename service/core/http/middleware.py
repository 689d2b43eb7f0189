"""Abuse limits and browser hardening, as plain ASGI middleware.

- **Rate limit** per account (per client address otherwise): a token bucket of
  ``rate_limit_burst`` requests refilled at ``rate_limit_per_minute``; over it,
  ``429`` with ``Retry-After``. A request is charged to an account only once its
  token has been verified (by an earlier request; the limiter remembers a hash of
  it). A request with an unknown token (or none) is let in while the client's
  address has budget and is charged afterwards: to the account it authenticated,
  or to the address when it authenticated nobody. So neither random tokens nor
  header spellings nor rotating forwarded addresses open new buckets.
  The address is the peer's, or, from a proxy listed in ``VAGUS_TRUSTED_PROXIES``,
  the last untrusted hop of ``X-Forwarded-For``. Buckets live in this process:
  with several replicas each enforces its own limit (put a shared limiter in the
  proxy, or accept N times the rate).
- **Body limit**: ``max_body_bytes`` for every request except uploads, which
  have ``max_upload_bytes`` (checked by the upload endpoint while streaming).
  A declared Content-Length over the limit is refused before reading; a
  chunked body is read up to the limit (never more is held) and replayed.
- **Security headers** on every response; ``Cache-Control: no-store`` on the API.
- **CORS** closed unless ``VAGUS_CORS_ORIGINS`` lists origins.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.http.problems import PROBLEM_TYPE_BASE
from service.core.settings import Settings

#: The upload endpoint streams its body to disk under its own, larger limit.
_UPLOAD_PATH = re.compile(r"^/v1/persons/[^/]+/imports/?$")
_UNLIMITED_PATHS = ("/healthz", "/readyz")
#: Swagger UI and ReDoc load scripts and styles from a CDN: no strict CSP there.
_DOC_PATHS = ("/docs", "/redoc", "/openapi.json")


async def _problem(
    send: Send,
    status: int,
    slug: str,
    title: str,
    detail: str,
    path: str,
    headers: dict[str, str] | None = None,
) -> None:
    body = json.dumps(
        {
            "type": PROBLEM_TYPE_BASE + slug,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": path,
        }
    ).encode()
    raw = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class TokenBuckets:
    """Per-key token buckets; ``take`` answers 0 when allowed, else seconds to wait."""

    def __init__(self, per_minute: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self.buckets: dict[str, _Bucket] = {}
        self.lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        return self._bucket(key, now, consume=True)

    def wait(self, key: str, now: float | None = None) -> float:
        """What :meth:`take` would answer, without taking anything."""
        return self._bucket(key, now, consume=False)

    def _bucket(self, key: str, now: float | None, *, consume: bool) -> float:
        now = time.monotonic() if now is None else now
        with self.lock:
            bucket = self.buckets.get(key)
            if bucket is None:
                if len(self.buckets) >= self.max_keys:
                    self._forget_full(now)
                bucket = self.buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                if consume:
                    bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled holds no state worth keeping.
        full = [k for k, b in self.buckets.items() if b.tokens + (now - b.stamp) * self.rate >= self.burst]
        for key in full:
            del self.buckets[key]
        if len(self.buckets) >= self.max_keys:
            self.buckets.clear()


class RateLimit:
    #: Verified tokens remembered (hash to account id), least recently used dropped first.
    MAX_VERIFIED = 100_000

    def __init__(self, app: ASGIApp, *, per_minute: float, burst: int, trusted_proxies: str = "") -> None:
        self.app = app
        self.buckets = TokenBuckets(per_minute, burst)
        self.trusted_proxies = trusted_proxies
        self.verified: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        token = _bearer_hash(scope)
        with self.lock:
            account = self.verified.get(token) if token else None
            if token is not None and account is not None:
                self.verified.move_to_end(token)
        address = "ip:" + client_ip(scope, self.trusted_proxies)
        # A known token pays from its account's bucket now; any other request is let in
        # while its address has budget and pays afterwards: to the account its token
        # turned out to belong to, or to the address when it authenticated nobody.
        key = f"a:{account}" if account else address
        wait = self.buckets.take(key) if account else self.buckets.wait(key)
        if wait > 0:
            await _problem(
                send,
                429,
                "rate-limited",
                "Too Many Requests",
                "too many requests: slow down",
                scope["path"],
                {"Retry-After": str(max(1, math.ceil(wait)))},
            )
            return
        try:
            await self.app(scope, receive, send)
        finally:
            if account is None:
                principal = (scope.get("state") or {}).get("principal")
                if principal is not None:
                    self.buckets.take(f"a:{principal.account_id}")
                    if token:
                        self._remember(token, principal.account_id)
                else:
                    self.buckets.take(address)

    def _remember(self, token: str, account_id: str) -> None:
        with self.lock:
            self.verified[token] = account_id
            while len(self.verified) > self.MAX_VERIFIED:
                self.verified.popitem(last=False)


def _bearer_hash(scope: Scope) -> str | None:
    """A hash of the bearer token however the scheme is spelled (the limiter never holds
    a token), or None without one."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return hashlib.sha256(token.strip()).hexdigest()
    return None


@lru_cache(maxsize=16)
def _networks(setting: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(item.strip(), strict=False) for item in setting.split(",") if item.strip()
    )


def _trusted(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(scope: Scope, trusted_proxies: str) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy, in which
    case the nearest address in ``X-Forwarded-For`` that is not itself a trusted proxy.
    A direct client's ``X-Forwarded-For`` is ignored (it could say anything)."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    networks = _networks(trusted_proxies)
    if not networks or not _trusted(peer, networks):
        return peer
    forwarded = [
        part.strip()
        for name, value in scope["headers"]
        if name == b"x-forwarded-for"
        for part in value.decode("latin-1").split(",")
        if part.strip()
    ]
    for hop in reversed(forwarded):
        if not _trusted(hop, networks):
            return hop
    return forwarded[0] if forwarded else peer


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _UPLOAD_PATH.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        detail = f"request bodies are limited to {self.max_bytes} bytes"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            # The server holds the client to its Content-Length.
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await _problem(send, 413, "body-too-large", "Content Too Large", detail, scope["path"])
                return
            await self.app(scope, receive, send)
            return
        # Chunked: read up to the limit here (at most max_bytes held), then replay it.
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await _problem(send, 413, "body-too-large", "Content Too Large", detail, scope["path"])
                return
        await self.app(
            scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send
        )


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        extra = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if not path.startswith(_DOC_PATHS):
            extra.append((b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"))
        if path.startswith("/v1/"):
            extra.append((b"cache-control", b"no-store"))  # health data stays out of caches
        if self.hsts:
            extra.append((b"strict-transport-security", b"max-age=31536000"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in extra if name not in present
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the middleware; the last added runs first (security headers wrap everything)."""
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.rate_limit_per_minute > 0:
        app.add_middleware(
            RateLimit,
            per_minute=settings.rate_limit_per_minute,
            burst=settings.rate_limit_burst,
            trusted_proxies=settings.trusted_proxies,
        )
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders, hsts=(settings.public_url or "").startswith("https://"))
