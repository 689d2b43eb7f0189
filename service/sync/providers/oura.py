"""Oura API v2 (https://cloud.ouraring.com/v2/docs).

* OAuth 2.0 authorization code (PKCE accepted); scopes ``personal daily heartrate
  session``; the token endpoint rotates refresh tokens (keep the newest).
* ``GET /v2/usercollection/<type>`` answers ``{"data": [...], "next_token": ...}``;
  ``heartrate`` takes ``start_datetime``/``end_datetime`` (at most 30 days per
  request), the daily documents ``start_date``/``end_date`` (days, inclusive).
* Rate limit: 5000 requests per 5 minutes per app; 429 beyond.
* Revocation: ``GET https://api.ouraring.com/oauth/revoke?access_token=...``.
* Webhooks: a subscription is confirmed by a GET with ``verification_token`` and
  ``challenge`` (echoed back); each event is a POST signed with ``x-oura-signature``,
  HMAC-SHA256 (client secret) of ``x-oura-timestamp`` followed by the raw body, hex.
  The body names ``event_type``, ``data_type``, ``object_id`` and ``user_id``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from connectors import cloud_oura

from .base import DataType, Paging, Provider, Push, RateLimit, Revocation, iso


def _datetimes(start: dt.datetime, end: dt.datetime) -> dict[str, str]:
    return {"start_datetime": iso(start), "end_datetime": iso(end)}


def _dates(start: dt.datetime, end: dt.datetime) -> dict[str, str]:
    return {
        "start_date": start.astimezone(dt.UTC).date().isoformat(),
        "end_date": end.astimezone(dt.UTC).date().isoformat(),
    }


class Oura(Provider):
    name = cloud_oura.PROVIDER
    title = "Oura"
    authorize_url = "https://cloud.ouraring.com/oauth/authorize"
    token_url = "https://api.ouraring.com/oauth/token"
    api_url = "https://api.ouraring.com"
    scopes = ("personal", "daily", "heartrate", "session")
    data_types = (
        DataType(
            "heartrate",
            "/v2/usercollection/heartrate",
            _datetimes,
            window=dt.timedelta(days=30),
            overlap=dt.timedelta(hours=6),
        ),
        DataType("sleep", "/v2/usercollection/sleep", _dates),
        DataType("daily_readiness", "/v2/usercollection/daily_readiness", _dates),
        DataType("session", "/v2/usercollection/session", _dates),
    )
    paging = Paging(records_key="data")
    rate_limit = RateLimit(5000, 300.0)
    user_path = "/v2/usercollection/personal_info"
    user_field = "id"

    def revocation(
        self, api_url: str, token_url: str, access_token: str, basic: str | None = None
    ) -> Revocation:
        base = token_url.rsplit("/", 1)[0]
        return Revocation("GET", f"{base}/revoke", params={"access_token": access_token})

    def verify_push(self, secret: str, headers: Mapping[str, str], body: bytes) -> bool:
        signature = headers.get("x-oura-signature", "")
        timestamp = headers.get("x-oura-timestamp", "")
        if not signature or not timestamp:
            return False
        expected = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256)
        return hmac.compare_digest(expected.hexdigest().lower(), signature.strip().lower())

    def read_push(self, body: Mapping[str, Any]) -> Push | None:
        user, data_type = body.get("user_id"), body.get("data_type")
        if not user or not data_type:
            return None
        known = self.data_type(str(data_type)) is not None and body.get("event_type") != "delete"
        event = f"{data_type}:{body.get('object_id')}:{body.get('event_time')}"
        return Push(str(user), str(data_type) if known else None, event)

    def verification_challenge(self, verification_token: str | None, query: Mapping[str, str]) -> str | None:
        given = query.get("verification_token", "")
        if verification_token and hmac.compare_digest(given, verification_token):
            return query.get("challenge")
        return None
