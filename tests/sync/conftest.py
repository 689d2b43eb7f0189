"""Fixtures of the cloud-sync tests: the fake vendor, its settings, a connected person."""

from __future__ import annotations

import datetime as dt
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.fernet import Fernet

from service.core.db import rls
from service.sync import client as sync_client
from tests.support.people import bearer, new_person, patient_token
from tests.sync.fake_vendor import CLIENTS, FakeVendor, Running

KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def vendor_server() -> Iterator[Running]:
    with Running(FakeVendor()) as running:
        yield running


@pytest.fixture
def vendor(vendor_server: Running, monkeypatch: pytest.MonkeyPatch) -> FakeVendor:
    """The fake vendor, emptied, with this server's settings pointing at it."""
    vendor_server.vendor.reset()
    sync_client.reset_throttles()
    base = vendor_server.url
    monkeypatch.setenv("VAGUS_SYNC_KEYS", KEY)
    monkeypatch.setenv("VAGUS_SYNC_RETRY_BASE_S", "0.05")
    monkeypatch.setenv("VAGUS_SYNC_MAX_WAIT_S", "10")
    for name, (client_id, secret) in CLIENTS.items():
        prefix = f"VAGUS_SYNC_{name.upper()}_"
        monkeypatch.setenv(prefix + "CLIENT_ID", client_id)
        monkeypatch.setenv(prefix + "CLIENT_SECRET", secret)
        monkeypatch.setenv(prefix + "AUTHORIZE_URL", f"{base}/{name}/oauth/authorize")
        monkeypatch.setenv(prefix + "TOKEN_URL", f"{base}/{name}/oauth/token")
        monkeypatch.setenv(prefix + "API_URL", f"{base}/{name}")
    monkeypatch.setenv("VAGUS_SYNC_OURA_VERIFICATION_TOKEN", "oura-verify")
    return vendor_server.vendor


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


@dataclass
class Connected:
    person: str
    headers: dict[str, str]
    connection_id: int
    provider: str


def authorize_at_vendor(authorization_url: str) -> dict[str, str]:
    """What the person's browser does: open the vendor URL, get redirected with a code."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(authorization_url, timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302, exc.code
        location = exc.headers["location"]
    else:
        raise AssertionError("the vendor did not redirect")
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


@pytest.fixture
def connect(client, pool, vendor):
    """A function connecting a new person's account at ``provider`` through the real flow."""

    def run(provider: str, person: str | None = None) -> Connected:
        person = person or new_person(pool, tz="Europe/Berlin")
        headers = bearer(patient_token(pool, person))
        started = client.post(
            f"/v1/persons/{person}/connections", json={"provider": provider}, headers=headers
        )
        assert started.status_code == 201, started.text
        back = authorize_at_vendor(started.json()["authorization_url"])
        done = client.get("/v1/sync/callback", params={"code": back["code"], "state": back["state"]})
        assert done.status_code == 200, done.text
        with rls.system_connection(pool) as conn:
            row = conn.execute(
                "SELECT id FROM sync_connection WHERE person_id = %s AND provider = %s", (person, provider)
            ).fetchone()
        return Connected(person, headers, row["id"], provider)

    return run


def anchor_day() -> dt.date:
    """Yesterday (UTC): every scripted record then lies in the past, whatever the hour."""
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
