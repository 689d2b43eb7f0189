"""Fitbit Web API (https://dev.fitbit.com/build/reference/web-api/).

* OAuth 2.0 authorization code with PKCE; the token endpoint takes the client's
  credentials as HTTP Basic; scopes ``heartrate sleep profile``; refresh tokens rotate.
  Intraday heart rate needs the app's intraday access (automatic for a "Personal"
  app, by request for others); without it the intraday answer has no dataset.
* Heart rate: ``GET /1/user/-/activities/heart/date/<day>/1d/1min.json?timezone=UTC``
  (intraday, at most 24 hours per request, so one request per UTC day) and
  ``/1/user/-/activities/heart/date/<start>/<end>.json`` (daily summaries with
  ``restingHeartRate``). HRV: ``/1/user/-/hrv/date/<start>/<end>.json`` (daily
  ``dailyRmssd``, at most 30 days per request). Sleep:
  ``/1.2/user/-/sleep/date/<start>/<end>.json`` (at most 100 days). No token paging.
* Rate limit: 150 requests per hour per user; 429 with ``Retry-After`` beyond.
* Revocation: ``POST /oauth2/revoke`` (``token=``), HTTP Basic.
* Push (subscriptions) is not used: Fitbit's notifications need a subscriber
  endpoint verified per app; the hourly sync covers it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from connectors import cloud_fitbit

from .base import DataType, Paging, Provider, RateLimit, Revocation


def _none(start: dt.datetime, end: dt.datetime) -> dict[str, str]:
    return {}


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).date().isoformat()


def _last_day(start: dt.datetime, end: dt.datetime) -> str:
    """The last day a range [start, end) touches (end itself when it is not midnight)."""
    return _day(max(start, end - dt.timedelta(microseconds=1)))


def _intraday(body: Mapping[str, Any]) -> list[Any] | None:
    if not isinstance(body.get("activities-heart-intraday"), Mapping):
        return None
    summary = body.get("activities-heart")
    days = [d.get("dateTime") for d in summary if isinstance(d, Mapping)] if isinstance(summary, list) else []
    return [
        {"date": days[0] if days else None, "activities-heart-intraday": body["activities-heart-intraday"]}
    ]


def _under(key: str):
    def extract(body: Mapping[str, Any]) -> list[Any] | None:
        records = body.get(key)
        return records if isinstance(records, list) else None

    return extract


class Fitbit(Provider):
    name = cloud_fitbit.PROVIDER
    title = "Fitbit"
    authorize_url = "https://www.fitbit.com/oauth2/authorize"
    token_url = "https://api.fitbit.com/oauth2/token"
    api_url = "https://api.fitbit.com"
    scopes = ("heartrate", "sleep", "profile")
    data_types = (
        DataType(
            "heart_intraday",
            lambda s, e: f"/1/user/-/activities/heart/date/{_day(s)}/1d/1min.json",
            lambda s, e: {"timezone": "UTC"},
            window=dt.timedelta(days=1),
            overlap=dt.timedelta(hours=6),
            extract=_intraday,
            shape="an object with activities-heart-intraday (is intraday access granted?)",
        ),
        DataType(
            "heart_daily",
            lambda s, e: f"/1/user/-/activities/heart/date/{_day(s)}/{_last_day(s, e)}.json",
            _none,
            window=dt.timedelta(days=30),
            extract=_under("activities-heart"),
            shape="an object with an 'activities-heart' list",
        ),
        DataType(
            "hrv",
            lambda s, e: f"/1/user/-/hrv/date/{_day(s)}/{_last_day(s, e)}.json",
            _none,
            window=dt.timedelta(days=30),
            extract=_under("hrv"),
            shape="an object with an 'hrv' list",
        ),
        DataType(
            "sleep",
            lambda s, e: f"/1.2/user/-/sleep/date/{_day(s)}/{_last_day(s, e)}.json",
            _none,
            window=dt.timedelta(days=100),
            extract=_under("sleep"),
            shape="an object with a 'sleep' list",
        ),
    )
    paging = Paging(records_key="", token_key=None)
    rate_limit = RateLimit(150, 3600.0, per_user=True)
    user_path = "/1/user/-/profile.json"
    user_field = "user.encodedId"
    token_auth = "basic"

    def revocation(
        self, api_url: str, token_url: str, access_token: str, basic: str | None = None
    ) -> Revocation:
        base = token_url.rsplit("/", 1)[0]
        return Revocation(
            "POST",
            f"{base}/revoke",
            params={"token": access_token},
            headers={"Authorization": basic} if basic else {},
        )
