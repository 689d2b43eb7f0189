"""Talking to a vendor: tokens, throttling, retries. Nothing here knows the database.

* **Throttle** (per provider, per process): a token bucket of the provider's rate
  limit, and a ``not before`` instant set by a 429's ``Retry-After``; no request to
  that provider leaves before it. A wait longer than ``max_wait_s`` raises
  :class:`RateLimited`, and the caller re-queues the sync for then.
* **Retries**: 5xx answers, timeouts and refused connections are tried again with
  doubling delays (``retry_base_s``), ``attempts`` times in all, then
  :class:`VendorUnavailable`.
* **Tokens**: the access token is refreshed when it expires within
  ``refresh_margin_s``, and once more on a 401; a refresh refused as
  ``invalid_grant`` (or 400/401) raises :class:`NeedsReauth`. Each new grant is
  handed to ``on_tokens`` at once (vendors rotate refresh tokens: the old one may
  not work twice).

Secrets never reach a log line or an exception message: requests are described by
method and path only, and errors by status and the vendor's ``error`` code.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from service.sync.providers.base import DataType, Provider, RateLimit, Revocation
from service.sync.settings import ProviderConfig, SyncSettings

log = logging.getLogger(__name__)

#: Consecutive 429s one request waits out before its sync is re-queued instead.
MAX_RATE_LIMITED = 30


class SyncError(Exception):
    """A sync cannot go on; the message is safe to store and show (no secrets)."""


class NeedsReauth(SyncError):
    """The grant is revoked or expired: the person has to connect again."""


class VendorUnavailable(SyncError):
    """5xx answers or timeouts outlasted the retries."""


class RateLimited(SyncError):
    def __init__(self, provider: str, wait_s: float) -> None:
        self.wait_s = wait_s
        super().__init__(f"{provider} rate limit: next request allowed in {wait_s:.0f} s")


class PageError(SyncError):
    """A page that is not the documented JSON shape."""


class VendorRefused(SyncError):
    """A 4xx answer other than 401/429: a request the vendor will not serve."""


@dataclass
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime | None
    scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Tokens(expires_at={self.expires_at!r}, scopes={self.scopes!r})"

    def as_secret(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "refresh_token": self.refresh_token}

    @classmethod
    def from_secret(
        cls, secret: Mapping[str, Any], expires_at: dt.datetime | None, scopes: tuple[str, ...] = ()
    ) -> Tokens:
        return cls(secret["access_token"], secret.get("refresh_token"), expires_at, scopes)

    @classmethod
    def from_response(cls, body: Mapping[str, Any], previous: Tokens | None = None) -> Tokens:
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise SyncError("the token endpoint answered without an access_token")
        expires_in = body.get("expires_in")
        expires_at = (
            dt.datetime.now(dt.UTC) + dt.timedelta(seconds=float(expires_in))
            if isinstance(expires_in, int | float)
            else None
        )
        refresh = body.get("refresh_token") or (previous.refresh_token if previous else None)
        scope = body.get("scope")
        scopes = tuple(str(scope).split()) if scope else (previous.scopes if previous else ())
        return cls(access, refresh, expires_at, scopes)


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


# -- throttling --------------------------------------------------------------------------


class Throttle:
    """A token bucket plus a Retry-After barrier, for one provider in this process."""

    def __init__(self, limit: RateLimit) -> None:
        self.capacity = float(limit.requests)
        self.rate = limit.requests / limit.per_s
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.not_before = 0.0
        self.lock = threading.Lock()

    def delay(self) -> float:
        """Seconds until a request may leave (0: now, and it is counted)."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if now < self.not_before:
                return self.not_before - now
            if self.tokens < 1:
                return (1 - self.tokens) / self.rate
            self.tokens -= 1
            return 0.0

    def hold_off(self, seconds: float) -> None:
        with self.lock:
            self.not_before = max(self.not_before, time.monotonic() + seconds)


_THROTTLES: dict[str, Throttle] = {}
_THROTTLES_LOCK = threading.Lock()


def throttle_for(provider: Provider, account: str | None = None) -> Throttle:
    """The provider's throttle; one per vendor account when its limit is per user."""
    key = f"{provider.name}:{account}" if provider.rate_limit.per_user else provider.name
    with _THROTTLES_LOCK:
        if key not in _THROTTLES:
            _THROTTLES[key] = Throttle(provider.rate_limit)
        return _THROTTLES[key]


def reset_throttles() -> None:
    """Forget every provider's throttle state (tests start each from a clean slate)."""
    with _THROTTLES_LOCK:
        _THROTTLES.clear()


def retry_after_s(value: str | None, default: float) -> float:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; ``default`` when absent."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


# -- the transport -----------------------------------------------------------------------


def send(
    method: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float,
) -> Response:
    """One HTTP exchange; any status comes back as a Response. Raises OSError/TimeoutError."""
    if params:
        url = f"{url}?{urllib.parse.urlencode(params)}"
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Accept": "application/json", "User-Agent": "Vagus-Sync/1", **(headers or {})},
    )
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Response(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as exc:
        body = exc.read() if exc.fp is not None else b""
        return Response(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}, body)


def _error_code(response: Response) -> str:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    return str(body.get("error", "")) if isinstance(body, Mapping) else ""


class VendorClient:
    """One connection's conversation with its vendor, during one sync or one revocation."""

    def __init__(
        self,
        provider: Provider,
        config: ProviderConfig,
        settings: SyncSettings,
        tokens: Tokens | None = None,
        on_tokens: Callable[[Tokens], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        account: str | None = None,
    ) -> None:
        self.provider = provider
        self.config = config
        self.settings = settings
        self.tokens = tokens
        self.on_tokens = on_tokens
        self.sleep = sleep
        self.throttle = throttle_for(provider, account)
        self.requests = 0

    # -- the exchange with retries and throttling ------------------------------------------

    def _exchange(self, method: str, url: str, what: str, **kwargs: Any) -> Response:
        """The answer to one request: throttled, retried on 5xx/timeouts, waiting out 429s."""
        failures = limited = 0
        while True:
            self._wait_turn()
            self.requests += 1
            try:
                response = send(method, url, timeout=self.settings.http_timeout_s, **kwargs)
            except (OSError, TimeoutError) as exc:
                problem = f"no answer ({type(exc).__name__})"
            else:
                if response.status == 429:
                    limited += 1
                    wait = retry_after_s(
                        response.headers.get("retry-after"), max(self.settings.retry_base_s, 1.0) * 2**limited
                    )
                    log.info("%s %s: 429, Retry-After %.1f s", self.provider.name, what, wait)
                    self.throttle.hold_off(wait)
                    if limited >= MAX_RATE_LIMITED:
                        raise RateLimited(self.provider.title, wait)
                    continue
                if response.status < 500:
                    return response
                problem = f"HTTP {response.status}"
            failures += 1
            log.info(
                "%s %s: %s (attempt %d of %d)",
                self.provider.name,
                what,
                problem,
                failures,
                self.settings.attempts,
            )
            if failures >= self.settings.attempts:
                raise VendorUnavailable(f"{self.provider.title} {what}: {problem} after {failures} attempts")
            self.sleep(self.settings.retry_base_s * 2 ** (failures - 1))

    def _wait_turn(self) -> None:
        while (delay := self.throttle.delay()) > 0:
            if delay > self.settings.max_wait_s:
                raise RateLimited(self.provider.title, delay)
            self.sleep(delay)

    # -- tokens ----------------------------------------------------------------------------

    def _basic(self) -> str:
        pair = f"{self.config.client_id}:{self.config.client_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def _token_request(self, what: str, form: dict[str, str]) -> Response:
        """A POST to the token endpoint, with the client's credentials as the vendor wants."""
        headers: dict[str, str] = {}
        if self.provider.token_auth == "basic":
            headers["Authorization"] = self._basic()
            form = {**form, "client_id": self.config.client_id}
        else:
            form = {**form, "client_id": self.config.client_id, "client_secret": self.config.client_secret}
        return self._exchange("POST", self.config.token_url, what, form=form, headers=headers)

    def exchange_code(self, code: str, verifier: str, redirect_uri: str) -> Tokens:
        response = self._token_request(
            "token exchange",
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": redirect_uri,
            },
        )
        if response.status != 200:
            code_name = _error_code(response) or f"HTTP {response.status}"
            raise VendorRefused(f"{self.provider.title} refused the authorization code ({code_name})")
        self.tokens = Tokens.from_response(self._json(response, "token exchange"))
        return self.tokens

    def refresh(self) -> Tokens:
        if self.tokens is None or not self.tokens.refresh_token:
            raise NeedsReauth(f"{self.provider.title} gave no refresh token: connect again")
        response = self._token_request(
            "token refresh", {"grant_type": "refresh_token", "refresh_token": self.tokens.refresh_token}
        )
        if response.status in (400, 401):
            code = _error_code(response) or f"HTTP {response.status}"
            raise NeedsReauth(
                f"{self.provider.title} refused to refresh the grant ({code}): it was revoked or has expired"
            )
        if response.status != 200:
            raise VendorRefused(f"{self.provider.title} token refresh: HTTP {response.status}")
        self.tokens = Tokens.from_response(self._json(response, "token refresh"), self.tokens)
        log.info("%s: access token refreshed", self.provider.name)
        if self.on_tokens is not None:
            self.on_tokens(self.tokens)
        return self.tokens

    def _fresh_token(self) -> str:
        if self.tokens is None:
            raise NeedsReauth(f"{self.provider.title}: no grant stored")
        expires = self.tokens.expires_at
        margin = dt.timedelta(seconds=self.settings.refresh_margin_s)
        if expires is not None and expires - margin <= dt.datetime.now(dt.UTC):
            self.refresh()
        return self.tokens.access_token

    # -- data ------------------------------------------------------------------------------

    def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """An API document, as the authorised user (refreshing the token once on a 401)."""
        url = self.config.api_url + path
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._fresh_token()}"}
            response = self._exchange("GET", url, path, params=params, headers=headers)
            if response.status == 401 and attempt == 1:
                self.refresh()
                continue
            if response.status == 401:
                raise NeedsReauth(f"{self.provider.title} refused a fresh access token (401)")
            if response.status == 403:
                raise NeedsReauth(
                    f"{self.provider.title} {path}: 403, the grant lacks a scope or was withdrawn"
                )
            if response.status != 200:
                raise VendorRefused(
                    f"{self.provider.title} {path}: HTTP {response.status} {_error_code(response)}".rstrip()
                )
            return self._json(response, path)
        raise AssertionError("unreachable")

    def pages(
        self, data_type: DataType, start: dt.datetime, end: dt.datetime
    ) -> Iterator[list[Mapping[str, Any]]]:
        """Each page of ``data_type`` records over [start, end), in windows the vendor allows."""
        paging = self.provider.paging
        window_start = start
        while window_start < end:
            window_end = min(end, window_start + data_type.window)
            params = {**paging.extra, **data_type.params(window_start, window_end)}
            path = data_type.path_for(window_start, window_end)
            token: str | None = None
            page_number = 0
            while True:
                page_number += 1
                query = {**params, paging.token_param: token} if token else params
                body = self.get_json(path, query)
                where = f"{self.provider.title} {data_type.name} page {page_number}"
                records = self._records(data_type, body)
                if records is None:
                    shape = data_type.shape or f"an object with a {paging.records_key!r} list"
                    raise PageError(f"{where}: not {shape}")
                if not all(isinstance(r, Mapping) for r in records):
                    raise PageError(f"{where}: a record is not a JSON object")
                yield records
                token = body.get(paging.token_key) if paging.token_key else None
                if not token:
                    break
                if not isinstance(token, str):
                    raise PageError(f"{where}: {paging.token_key} is not a string")
            window_start = window_end

    def _records(self, data_type: DataType, body: Any) -> list[Any] | None:
        if not isinstance(body, Mapping):
            return None
        if data_type.extract is not None:
            return data_type.extract(body)
        records = body.get(self.provider.paging.records_key)
        return records if isinstance(records, list) else None

    def user_id(self) -> str | None:
        """The vendor's id of the connected user (``user_field`` may be dotted: ``user.id``)."""
        value: Any = self.get_json(self.provider.user_path)
        for key in self.provider.user_field.split("."):
            value = value.get(key) if isinstance(value, Mapping) else None
        return str(value) if value is not None else None

    def revoke(self) -> bool:
        """Revoke the grant at the vendor; True when it is gone (revoked, or already invalid)."""
        if self.tokens is None:
            return True
        revocation: Revocation | None = self.provider.revocation(
            self.config.api_url, self.config.token_url, self.tokens.access_token, self._basic()
        )
        if revocation is None:
            return False
        if revocation.method == "POST":
            response = self._exchange(
                "POST", revocation.url, "revoke", form=revocation.params, headers=revocation.headers
            )
        else:
            response = self._exchange(
                revocation.method,
                revocation.url,
                "revoke",
                params=revocation.params,
                headers=revocation.headers,
            )
        # 401/400: the token is already invalid, which is what revoking wants.
        return response.status < 300 or response.status in (400, 401)

    def _json(self, response: Response, what: str) -> Any:
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            raise PageError(f"{self.provider.title} {what}: the answer is not JSON") from None
