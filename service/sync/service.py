"""Cloud sync: connect, disconnect, sync one connection, sweep the due ones, take pushes.

**How a sync becomes an import.** A sync fetches each data type's pages from its
cursor (the first from ``backfill_days`` back), writes the records as NDJSON (one
``{"provider", "type", "record"}`` line each) into the person's upload folder, and
runs that file through ``imports.service.register`` + ``run_import`` with the
provider's :class:`connectors.cloud_records.CloudRecords` connector. So the ledger
row (counts, rejections by reason, the connector ``<provider>_cloud``, the range in
the file name), deduplication, the recompute mark and the ``import.*`` webhooks are
exactly those of an uploaded file, and the fetched records stay on disk beside the
ledger row like any upload. Only then do the cursors move, to the range's end less
each type's overlap (records the vendor adds or scores late are fetched again and
counted as duplicates).

**Faults.** 5xx and timeouts are retried by the client, then the sync fails and the
job is retried; nothing is imported and no cursor moves. A page that is not the
documented shape ends the sync ``failed`` with the reason; the pages fetched before
it are imported (once: a repeat is a duplicate) and the cursors of the data types
completed before it move. A refused refresh (``invalid_grant``) or a 401 on a fresh
token flags the connection ``needs_reauth`` and emits ``connection.needs_reauth``.
One sync per connection runs at a time (an advisory lock held for the sync).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from connectors.cloud_records import CloudRecords
from service.core.db import rls
from service.core.db.types import Conn, Pool
from service.core.settings import Settings
from service.imports import repository as ledger
from service.imports import service as imports
from service.imports import uploads
from service.jobs.queue import enqueue
from service.sync import oauth
from service.sync import repository as repo
from service.sync.client import (
    NeedsReauth,
    RateLimited,
    SyncError,
    Tokens,
    VendorClient,
    VendorUnavailable,
)
from service.sync.crypto import Vault
from service.sync.providers import PROVIDERS, Provider
from service.sync.settings import ProviderConfig, SyncSettings, get_sync_settings, provider_config
from service.webhooks import service as webhooks

log = logging.getLogger(__name__)

NEEDS_REAUTH_EVENT = "connection.needs_reauth"


class NotConfigured(SyncError):
    """The provider has no app registration (client id and secret) on this server."""


class CallbackRefused(SyncError):
    """A callback whose state is unknown, used or expired, or that carries no code."""


class PushRefused(SyncError):
    """A push notification whose signature does not verify."""


def vault(settings: SyncSettings | None = None) -> Vault:
    return Vault((settings or get_sync_settings()).keys)


def provider(name: str) -> Provider:
    found = PROVIDERS.get(name)
    if found is None:
        raise LookupError(f"unknown provider {name!r}; known: {', '.join(PROVIDERS)}")
    return found


def config_of(chosen: Provider) -> ProviderConfig:
    config = provider_config(chosen.name, chosen.authorize_url, chosen.token_url, chosen.api_url)
    if config is None:
        raise NotConfigured(
            f"{chosen.title} is not set up on this server (the operator sets "
            f"VAGUS_SYNC_{chosen.name.upper()}_CLIENT_ID and _CLIENT_SECRET)"
        )
    return config


def redirect_uri(app: Settings, settings: SyncSettings) -> str:
    return settings.redirect_url or f"{app.base_url.rstrip('/')}/v1/sync/callback"


# -- connect and disconnect --------------------------------------------------------------


def start(conn: Conn, person_id: str, provider_name: str, app: Settings) -> dict[str, Any]:
    """A new authorization for the person: the vendor URL to send their browser to."""
    settings = get_sync_settings()
    chosen = provider(provider_name)
    config = config_of(chosen)
    attempt = oauth.new_attempt()
    expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.authorization_ttl_s)
    repo.add_authorization(
        conn,
        state_hash=attempt.state_hash,
        person_id=person_id,
        provider=chosen.name,
        expires_at=expires_at,
        secret=vault(settings).seal({"verifier": attempt.verifier}),
    )
    url = oauth.authorization_url(chosen, config, attempt, redirect_uri(app, settings))
    return {"provider": chosen.name, "authorization_url": url, "expires_at": expires_at}


def complete(
    pool: Pool, app: Settings, *, state: str, code: str | None, error: str | None = None
) -> dict[str, Any]:
    """The vendor's redirect: check ``state``, exchange the code, store the grant, sync."""
    settings = get_sync_settings()
    with rls.system_connection(pool) as conn:  # the state is the credential: no caller yet
        pending = repo.take_authorization(conn, oauth.hash_state(state))
    if pending is None:
        raise CallbackRefused(
            "this authorization is unknown, was used already, or expired: start the connection again"
        )
    chosen = provider(pending["provider"])
    if error or not code:
        raise CallbackRefused(f"{chosen.title} did not grant access ({error or 'no code'})")
    keys = vault(settings)
    client = VendorClient(chosen, config_of(chosen), settings)
    tokens = client.exchange_code(code, keys.open(pending["secret"])["verifier"], redirect_uri(app, settings))
    user_id = client.user_id()
    person_id = str(pending["person_id"])
    with rls.system_connection(pool) as conn:
        rls.act_for_person(conn, person_id)
        row = repo.upsert_connection(
            conn,
            person_id=person_id,
            provider=chosen.name,
            secret=keys.seal(tokens.as_secret()),
            token_expires_at=tokens.expires_at,
            scopes=list(tokens.scopes or chosen.scopes),
            external_user_id=user_id,
        )
        request_sync(conn, row["id"], "connect")
    log.info("person %s connected %s (connection %s)", person_id, chosen.name, row["id"])
    return row


def request_sync(
    conn: Conn, connection_id: int, trigger: str, data_types: list[str] | None = None, key: str | None = None
) -> bool:
    """Queue a sync of the connection (once per ``key``; default: once per moment)."""
    key = key or dt.datetime.now(dt.UTC).isoformat()
    job = enqueue(
        conn,
        "sync_connection",
        {"connection_id": connection_id, "trigger": trigger, "data_types": data_types},
        unique_key=f"sync:{connection_id}:{trigger}:{key}",
    )
    return job is not None


def disconnect(conn: Conn, person_id: str, provider_name: str) -> bool:
    """Delete the connection (tokens, cursors) and queue the revocation at the vendor."""
    row = repo.connection_for(conn, person_id, provider_name)
    if row is None:
        return False
    _drop(conn, row["id"])
    return True


def revoke_for_erasure(conn: Conn, person_id: str) -> int:
    """Erasure's part: every connection of the person revoked at its vendor and deleted."""
    rows = repo.sealed_connections_of(conn, person_id)
    for row in rows:
        _drop(conn, row["id"])
    return len(rows)


def _drop(conn: Conn, connection_id: int) -> None:
    deleted = repo.delete_connection(conn, connection_id)
    if deleted is not None:
        # The job carries the grant still sealed; the worker opens it only to revoke it.
        enqueue(
            conn,
            "sync_revoke",
            {"provider": deleted["provider"], "secret": deleted["secret"]},
            unique_key=f"sync_revoke:{deleted['id']}:{dt.datetime.now(dt.UTC).isoformat()}",
        )


def revoke(provider_name: str, sealed: str) -> bool:
    """Revoke one sealed grant at its vendor (the ``sync_revoke`` job)."""
    settings = get_sync_settings()
    chosen = provider(provider_name)
    secret = vault(settings).open(sealed)
    client = VendorClient(chosen, config_of(chosen), settings, Tokens.from_secret(secret, expires_at=None))
    return client.revoke()


# -- sync -------------------------------------------------------------------------------


@dataclass
class SyncOutcome:
    connection_id: int
    status: str  # completed, failed, skipped
    reason: str | None = None
    run_id: int | None = None
    import_id: int | None = None
    records: int = 0
    inserted: int = 0
    duplicates: int = 0
    requests: int = 0
    data_types: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync(
    pool: Pool,
    app: Settings,
    connection_id: int,
    *,
    trigger: str = "schedule",
    data_types: list[str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncOutcome:
    """One sync of one connection (see the module docstring). Raises VendorUnavailable
    (retry later) and RateLimited (retry after ``wait_s``); other faults end in the outcome."""
    with pool.connection() as lock_conn:
        lock_conn.autocommit = True
        if not repo.try_lock(lock_conn, connection_id):
            return SyncOutcome(connection_id, "skipped", "another sync of it is running")
        try:
            return _sync(pool, app, connection_id, trigger, data_types, sleep)
        finally:
            repo.unlock(lock_conn, connection_id)


def _sync(
    pool: Pool,
    app: Settings,
    connection_id: int,
    trigger: str,
    data_types: list[str] | None,
    sleep: Callable[[float], None],
) -> SyncOutcome:
    settings = get_sync_settings()
    now = dt.datetime.now(dt.UTC)
    with rls.system_connection(pool) as conn:
        row = repo.connection(conn, connection_id)
        if row is None:
            return SyncOutcome(connection_id, "skipped", "the connection was removed")
        if row["status"] != "active":
            return SyncOutcome(connection_id, "skipped", "the connection needs reauthorising")
        for stale in repo.interrupted_runs(conn, connection_id):
            record = ledger.get(conn, stale["import_id"]) if stale["import_id"] else None
            if record is not None and record["status"] in ("queued", "running"):
                ledger.fail(conn, record["id"], "interrupted: its sync was repeated")
        keys = vault(settings)
        # Re-encrypted under the newest key on every sync: old keys can then be dropped.
        repo.store_tokens(
            conn, connection_id, secret=keys.rotate(row["secret"]), token_expires_at=row["token_expires_at"]
        )
        chosen = provider(row["provider"])
        cursors = repo.cursors(conn, connection_id)
        types = [d for d in chosen.data_types if data_types is None or d.name in data_types]
        backfill = now - dt.timedelta(days=settings.backfill_days)
        ranges = {d.name: (cursors.get(d.name, backfill), now) for d in types}
        run = repo.start_run(
            conn,
            connection=row,
            trigger=trigger,
            range_end=now,
            range_start=min((s for s, _ in ranges.values()), default=now),
        )
    outcome = SyncOutcome(connection_id, "completed", run_id=run["id"], data_types=[d.name for d in types])
    person_id = str(row["person_id"])

    def keep(tokens: Tokens) -> None:
        with rls.system_connection(pool) as conn:
            repo.store_tokens(
                conn, connection_id, secret=keys.seal(tokens.as_secret()), token_expires_at=tokens.expires_at
            )

    client = VendorClient(
        chosen,
        config_of(chosen),
        settings,
        Tokens.from_secret(keys.open(row["secret"]), row["token_expires_at"], tuple(row["scopes"])),
        on_tokens=keep,
        sleep=sleep,
        account=str(connection_id),
    )
    lines: list[str] = []
    completed: list[str] = []
    try:
        for data_type in types:
            for page in client.pages(data_type, *ranges[data_type.name]):
                lines.extend(
                    json.dumps(
                        {"provider": chosen.name, "type": data_type.name, "record": record},
                        separators=(",", ":"),
                    )
                    for record in page
                )
            completed.append(data_type.name)
    except NeedsReauth as exc:
        _needs_reauth(pool, row, run["id"], str(exc), client.requests)
        outcome.status, outcome.reason, outcome.requests = "failed", str(exc), client.requests
        return outcome
    except (VendorUnavailable, RateLimited) as exc:
        _finish(pool, run["id"], connection_id, "failed", str(exc), client.requests, 0)
        raise
    except SyncError as exc:  # a bad page, a refused request: what came before is kept
        outcome.status, outcome.reason = "failed", str(exc)
    outcome.requests, outcome.records = client.requests, len(lines)
    if lines:
        result = _import(pool, app, row, run["id"], lines, ranges)
        outcome.import_id, outcome.inserted = result.import_id, result.inserted
        outcome.duplicates = result.duplicates
        if result.status != "completed":
            outcome.status, outcome.reason = "failed", f"import failed: {result.error}"
            completed.clear()
    with rls.system_connection(pool) as conn:
        for name in completed:
            start, end = ranges[name]
            declared = chosen.data_type(name)
            assert declared is not None  # ``completed`` holds only the provider's own types
            repo.advance_cursor(conn, connection_id, person_id, name, max(start, end - declared.overlap))
    _finish(pool, run["id"], connection_id, outcome.status, outcome.reason, outcome.requests, outcome.records)
    log.info(
        "sync of connection %s (%s): %s, %d records, %d requests",
        connection_id,
        chosen.name,
        outcome.status,
        outcome.records,
        outcome.requests,
    )
    return outcome


def _import(
    pool: Pool,
    app: Settings,
    row: Mapping[str, Any],
    run_id: int,
    lines: list[str],
    ranges: Mapping[str, tuple[dt.datetime, dt.datetime]],
) -> imports.ImportOutcome:
    """The fetched records as one import of the person, through the one import pipeline."""
    person_id = str(row["person_id"])
    start = min(s for s, _ in ranges.values())
    end = max(e for _, e in ranges.values())
    name = f"{row['provider']}_cloud_{start:%Y%m%dT%H%MZ}_{end:%Y%m%dT%H%MZ}.ndjson"
    with rls.system_connection(pool) as conn:
        rls.act_for_person(conn, person_id)
        record = imports.register(conn, person_id=person_id, file_name=name)
        path = uploads.path_for(app.upload_dir, person_id, record["id"], name)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        ledger.set_stored_path(conn, record["id"], str(path))
        repo.set_run_import(conn, run_id, record["id"])
    return imports.run_import(pool, record["id"], path, connector=CloudRecords(row["provider"]))


def _finish(
    pool: Pool, run_id: int, connection_id: int, status: str, reason: str | None, requests: int, records: int
) -> None:
    with rls.system_connection(pool) as conn:
        repo.finish_run(conn, run_id, status=status, reason=reason, requests=requests, records=records)
        repo.mark_synced(conn, connection_id, error=reason)


def _needs_reauth(pool: Pool, row: Mapping[str, Any], run_id: int, reason: str, requests: int) -> None:
    with rls.system_connection(pool) as conn:
        repo.finish_run(conn, run_id, status="failed", reason=reason, requests=requests, records=0)
        if repo.mark_needs_reauth(conn, row["id"], reason):
            at = dt.datetime.now(dt.UTC).isoformat()
            webhooks.emit(
                conn,
                NEEDS_REAUTH_EVENT,
                person_id=str(row["person_id"]),
                subject=f"sync_connection:{row['id']}:{at}",
                data={"connection_id": row["id"], "provider": row["provider"], "reason": reason},
            )
    log.warning("connection %s (%s) needs reauthorising: %s", row["id"], row["provider"], reason)


def sweep(pool: Pool) -> dict[str, int]:
    """Queue a sync of every active connection whose time has come; schedule its next."""
    settings = get_sync_settings()
    queued = 0
    with rls.system_connection(pool) as conn:
        for row in repo.due_connections(conn):
            queued += request_sync(conn, row["id"], "schedule", key=row["next_sync_at"].isoformat())
            later = settings.every_s + random.uniform(0, settings.jitter_s)
            repo.schedule_next(conn, row["id"], dt.datetime.now(dt.UTC) + dt.timedelta(seconds=later))
    return {"queued": queued}


# -- push notifications ----------------------------------------------------------------


def push(pool: Pool, provider_name: str, headers: Mapping[str, str], body: bytes) -> dict[str, int]:
    """A vendor's notification: signature checked, then a targeted sync per connection."""
    chosen = provider(provider_name)
    config = config_of(chosen)
    lowered = {k.lower(): v for k, v in headers.items()}
    if not chosen.verify_push(config.client_secret, lowered, body):
        raise PushRefused(f"{chosen.title} notification: the signature does not verify")
    try:
        notification = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PushRefused(f"{chosen.title} notification: the body is not JSON") from None
    event = chosen.read_push(notification) if isinstance(notification, Mapping) else None
    if event is None or event.data_type is None:
        return {"queued": 0}
    queued = 0
    with rls.system_connection(pool) as conn:
        for row in repo.by_vendor_user(conn, chosen.name, event.external_user_id):
            queued += request_sync(conn, row["id"], "push", [event.data_type], key=event.event_id)
    return {"queued": queued}


def verification_challenge(provider_name: str, query: Mapping[str, str]) -> str | None:
    chosen = provider(provider_name)
    return chosen.verification_challenge(config_of(chosen).verification_token, query)


# -- reading ----------------------------------------------------------------------------


def connections(conn: Conn, person_id: str) -> list[dict[str, Any]]:
    return [
        {**row, "runs": repo.runs_of(conn, row["id"], limit=5)}
        for row in repo.connections_of(conn, person_id)
    ]
