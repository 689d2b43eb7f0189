"""A token's ``last_used_at`` follows its use, written at most once a minute (issue 12, point 8)."""

from __future__ import annotations

import datetime as dt

from service.access.auth import hash_token
from service.core.db.rls import system_connection
from tests.support.people import bearer, new_person, patient_token


def _last_used(pool, token: str):
    with system_connection(pool) as conn:
        return conn.execute(
            "SELECT last_used_at FROM api_token WHERE token_hash = %s", (hash_token(token),)
        ).fetchone()["last_used_at"]


def test_last_used_at_is_set_on_use_and_written_at_most_once_a_minute(pool, client):
    token = patient_token(pool, new_person(pool))
    assert _last_used(pool, token) is None
    assert client.get("/v1/me", headers=bearer(token)).status_code == 200
    first = _last_used(pool, token)
    assert first is not None
    client.get("/v1/me", headers=bearer(token))
    assert _last_used(pool, token) == first  # within the minute: no second write
    with system_connection(pool) as conn:
        conn.execute(
            "UPDATE api_token SET last_used_at = last_used_at - interval '2 minutes' WHERE token_hash = %s",
            (hash_token(token),),
        )
    client.get("/v1/me", headers=bearer(token))
    assert _last_used(pool, token) > first - dt.timedelta(minutes=2)
