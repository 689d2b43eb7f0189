-- Outgoing webhooks: an app account subscribes a URL to event types; each
-- event becomes one delivery job per subscription, and every attempt is logged.

CREATE TABLE webhook_subscription (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    url         text NOT NULL CHECK (url ~ '^https?://'),
    -- HMAC key. Stored as is: signing needs the key itself, not a hash of it.
    secret      text NOT NULL,
    events      text[] NOT NULL CHECK (events <@ ARRAY['import.completed', 'import.failed',
                    'session.response.ready', 'evidence.updated']::text[]
                    AND cardinality(events) > 0),
    -- Only events about this person; NULL: every person the account may see.
    person_id   uuid REFERENCES person(id) ON DELETE CASCADE,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscription_account ON webhook_subscription (account_id);

CREATE TABLE webhook_delivery (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id  bigint NOT NULL REFERENCES webhook_subscription(id) ON DELETE CASCADE,
    event_id         text NOT NULL,
    event_type       text NOT NULL,
    job_id           bigint,
    attempt          integer NOT NULL,
    status_code      integer,
    error            text,
    succeeded        boolean NOT NULL,
    attempted_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_delivery_subscription ON webhook_delivery (subscription_id, id DESC);
