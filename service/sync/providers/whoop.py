"""WHOOP API v2 (https://developer.whoop.com/api).

* OAuth 2.0 authorization code; scopes ``read:recovery read:sleep read:cycles
  read:profile offline`` (``offline`` is what yields a refresh token).
* ``GET /developer/v2/recovery`` and ``/developer/v2/activity/sleep`` take ``start``,
  ``end`` (ISO 8601), ``limit`` (at most 25) and ``nextToken``; they answer
  ``{"records": [...], "next_token": ...}``.
* Rate limit: 100 requests per minute (and 10,000 per day) per app; 429 beyond.
* Revocation: ``DELETE /developer/v2/user/access`` with the access token.
* Webhooks: POST with ``X-WHOOP-Signature``, base64 HMAC-SHA256 (client secret) of
  ``X-WHOOP-Signature-Timestamp`` followed by the raw body; the body names
  ``user_id``, ``id`` and ``type`` (``recovery.updated``, ``sleep.updated``, ...).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from connectors import cloud_whoop

from .base import DataType, Paging, Provider, Push, RateLimit, Revocation, iso


def _range(start: dt.datetime, end: dt.datetime) -> dict[str, str]:
    return {"start": iso(start), "end": iso(end)}


class Whoop(Provider):
    name = cloud_whoop.PROVIDER
    title = "WHOOP"
    authorize_url = "https://api.prod.whoop.com/oauth/oauth2/auth"
    token_url = "https://api.prod.whoop.com/oauth/oauth2/token"
    api_url = "https://api.prod.whoop.com"
    scopes = ("read:recovery", "read:sleep", "read:cycles", "read:profile", "offline")
    # Sleep first: a recovery is timed at the end of its sleep (connectors.cloud_whoop).
    data_types = (
        DataType("sleep", "/developer/v2/activity/sleep", _range),
        DataType("recovery", "/developer/v2/recovery", _range),
    )
    paging = Paging(records_key="records", token_param="nextToken", extra={"limit": "25"})
    rate_limit = RateLimit(100, 60.0)
    user_path = "/developer/v2/user/profile/basic"
    user_field = "user_id"

    def revocation(
        self, api_url: str, token_url: str, access_token: str, basic: str | None = None
    ) -> Revocation:
        return Revocation(
            "DELETE",
            f"{api_url}/developer/v2/user/access",
            headers={"Authorization": f"Bearer {access_token}"},
        )

    def verify_push(self, secret: str, headers: Mapping[str, str], body: bytes) -> bool:
        signature = headers.get("x-whoop-signature", "")
        timestamp = headers.get("x-whoop-signature-timestamp", "")
        if not signature or not timestamp:
            return False
        mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
        return hmac.compare_digest(base64.b64encode(mac).decode(), signature.strip())

    def read_push(self, body: Mapping[str, Any]) -> Push | None:
        user, kind = body.get("user_id"), str(body.get("type") or "")
        if user is None or "." not in kind:
            return None
        resource, action = kind.split(".", 1)
        known = self.data_type(resource) is not None and action == "updated"
        return Push(str(user), resource if known else None, f"{kind}:{body.get('id')}")
