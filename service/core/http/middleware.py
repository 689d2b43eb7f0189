"""Abuse limits and browser hardening, as plain ASGI middleware.

- **Rate limit** per token (per client address without one): a token bucket of
  ``rate_limit_burst`` requests refilled at ``rate_limit_per_minute``; over it,
  ``429`` with ``Retry-After``. Buckets live in this process: with several
  replicas each enforces its own limit (put a shared limiter in the proxy, or
  accept N times the rate).
- **Body limit**: ``max_body_bytes`` for every request except uploads, which
  have ``max_upload_bytes`` (checked by the upload endpoint while streaming).
  A declared Content-Length over the limit is refused before reading; a
  chunked body is read up to the limit (never more is held) and replayed.
- **Security headers** on every response; ``Cache-Control: no-store`` on the API.
- **CORS** closed unless ``VAGUS_CORS_ORIGINS`` lists origins.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from dataclasses import dataclass

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


async def _problem(send: Send, status: int, slug: str, title: str, detail: str, path: str,
                   headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status,
                       "detail": detail, "instance": path}).encode()
    raw = [(b"content-type", b"application/problem+json"),
           (b"content-length", str(len(body)).encode())]
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
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled holds no state worth keeping.
        full = [k for k, b in self.buckets.items()
                if b.tokens + (now - b.stamp) * self.rate >= self.burst]
        for key in full:
            del self.buckets[key]
        if len(self.buckets) >= self.max_keys:
            self.buckets.clear()


class RateLimit:
    def __init__(self, app: ASGIApp, *, per_minute: float, burst: int) -> None:
        self.app = app
        self.buckets = TokenBuckets(per_minute, burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(_client_key(scope))
        if wait > 0:
            await _problem(send, 429, "rate-limited", "Too Many Requests",
                           "too many requests for this token: slow down", scope["path"],
                           {"Retry-After": str(max(1, math.ceil(wait)))})
            return
        await self.app(scope, receive, send)


def _client_key(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            # Keyed by a hash: the limiter's memory never holds a token.
            return "t:" + hashlib.sha256(value).hexdigest()
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


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
                await _problem(send, 413, "body-too-large", "Content Too Large", detail,
                               scope["path"])
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
                await _problem(send, 413, "body-too-large", "Content Too Large", detail,
                               scope["path"])
                return
        await self.app(scope, _replay([{"type": "http.request", "body": body,
                                         "more_body": False}], receive), send)


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
        extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                 (b"referrer-policy", b"no-referrer"),
                 (b"cross-origin-opener-policy", b"same-origin")]
        if not path.startswith(_DOC_PATHS):
            extra.append((b"content-security-policy",
                          b"default-src 'none'; frame-ancestors 'none'"))
        if path.startswith("/v1/"):
            extra.append((b"cache-control", b"no-store"))  # health data stays out of caches
        if self.hsts:
            extra.append((b"strict-transport-security", b"max-age=31536000"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in extra if name not in present]
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the middleware; the last added runs first (security headers wrap everything)."""
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.rate_limit_per_minute > 0:
        app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute,
                           burst=settings.rate_limit_burst)
    if settings.cors_origin_list:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list,
                           allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.add_middleware(SecurityHeaders,
                       hsts=(settings.public_url or "").startswith("https://"))
