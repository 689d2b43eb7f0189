-- vagus: amends=6a228a655061f98f4c24e598305b1d48051580f4fb09f535552074fbba00fcd0
-- The job queue (docs/deploy.md, "The job queue"): one row per unit of background work,
-- claimed by workers with FOR UPDATE SKIP LOCKED and held under a lease that
-- the worker's heartbeat extends. A job whose lease lapses (its worker died)
-- is claimed again; after max_attempts it becomes 'dead' until re-queued.

CREATE TYPE job_state AS ENUM ('queued', 'running', 'succeeded', 'dead');

CREATE TABLE job (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,
    payload       jsonb NOT NULL DEFAULT '{}',
    state         job_state NOT NULL DEFAULT 'queued',
    -- Set for work that must happen once per key, e.g. 'maintenance:2026-01-01T03:00'
    -- for a periodic run: two schedulers enqueueing the same period collide here.
    unique_key    text UNIQUE,
    attempts      integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    run_at        timestamptz NOT NULL DEFAULT now(),
    locked_by     text,
    lease_until   timestamptz,
    last_error    text,
    result        jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    CHECK (state <> 'running' OR lease_until IS NOT NULL)
);
-- What a worker polls: ready jobs in order, and running jobs whose lease lapsed.
CREATE INDEX job_ready ON job (run_at, id) WHERE state = 'queued';
CREATE INDEX job_leased ON job (lease_until) WHERE state = 'running';
CREATE INDEX job_state_kind ON job (state, kind, id);

-- Persons with data added since their last recompute, with the imports that
-- added it. Imports add to it; the scheduler's sweep turns it into
-- recompute_person jobs (and empties it) in one transaction.
CREATE TABLE recompute_pending (
    person_id   uuid PRIMARY KEY REFERENCES person(id) ON DELETE CASCADE,
    import_ids  bigint[] NOT NULL DEFAULT '{}',
    since       timestamptz NOT NULL DEFAULT now()
);

-- Inbox files seen by a scan, so the next scan can tell whether they stopped growing.
CREATE TABLE inbox_file (
    path        text PRIMARY KEY,
    size_bytes  bigint NOT NULL,
    mtime_ns    bigint NOT NULL,
    seen_at     timestamptz NOT NULL DEFAULT now()
);
