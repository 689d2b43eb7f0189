-- Cloud sync (issue 15): a person's account at a wearable vendor, connected once with
-- OAuth 2.0, then synced on a schedule and on the vendor's push notifications.
--
-- Secrets live only in columns named `secret`, which the privacy export never writes
-- (service/privacy/repository.py HIDDEN_COLUMNS): each holds a Fernet token (encrypted
-- with a key from VAGUS_SYNC_KEYS), never a plain credential.

-- An authorization the person started and the vendor has not yet answered: the `state`
-- (stored as its SHA-256) binds the callback to the person; `secret` is the PKCE verifier.
CREATE TABLE sync_authorization (
    state_hash  text PRIMARY KEY,
    person_id   uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    provider    text NOT NULL,
    secret      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sync_authorization_person ON sync_authorization (person_id);

-- A connected vendor account. `secret` holds the encrypted access and refresh tokens.
CREATE TABLE sync_connection (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id         uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    provider          text NOT NULL,
    status            text NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'needs_reauth')),
    external_user_id  text,
    scopes            text[] NOT NULL DEFAULT '{}',
    secret            text NOT NULL,
    token_expires_at  timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    last_sync_at      timestamptz,
    next_sync_at      timestamptz NOT NULL DEFAULT now(),
    last_error        text,
    UNIQUE (person_id, provider)
);
CREATE INDEX sync_connection_due ON sync_connection (next_sync_at) WHERE status = 'active';
CREATE INDEX sync_connection_vendor_user ON sync_connection (provider, external_user_id);

-- How far each data type of a connection has been fetched: the next sync asks from here.
CREATE TABLE sync_cursor (
    connection_id  bigint NOT NULL REFERENCES sync_connection(id) ON DELETE CASCADE,
    person_id      uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    data_type      text NOT NULL,
    synced_until   timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, data_type)
);

-- One sync of one connection: what was asked, what happened, and its import.
CREATE TABLE sync_run (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id  bigint REFERENCES sync_connection(id) ON DELETE SET NULL,
    person_id      uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    provider       text NOT NULL,
    trigger        text NOT NULL CHECK (trigger IN ('connect', 'schedule', 'push', 'manual')),
    status         text NOT NULL DEFAULT 'running'
                   CHECK (status IN ('running', 'completed', 'failed')),
    reason         text,
    range_start    timestamptz,
    range_end      timestamptz,
    requests       integer NOT NULL DEFAULT 0,
    records        integer NOT NULL DEFAULT 0,
    import_id      bigint REFERENCES import(id) ON DELETE SET NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
CREATE INDEX sync_run_connection ON sync_run (connection_id, started_at DESC);

SELECT vagus_protect_person_table(t)
FROM unnest(ARRAY['sync_authorization', 'sync_connection', 'sync_cursor',
                  'sync_run']::regclass[]) AS t;
