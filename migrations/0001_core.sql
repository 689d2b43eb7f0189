-- Core schema: people, sources, the import ledger, samples and intervals.
-- Timestamps are UTC instants (timestamptz); each person's IANA zone says what
-- "the night after" and "same time of day" mean.

CREATE TYPE metric AS ENUM (
    'heart_rate', 'rr_interval', 'hrv_sdnn', 'hrv_rmssd', 'resting_heart_rate',
    'respiratory_rate', 'spo2', 'skin_temperature_delta',
    'vendor_stress', 'vendor_recovery', 'vendor_readiness'
);
CREATE TYPE source_kind AS ENUM ('chest_strap', 'ecg', 'watch', 'ring', 'phone', 'app', 'unknown');
CREATE TYPE import_status AS ENUM ('queued', 'running', 'completed', 'failed');
CREATE TYPE account_role AS ENUM ('admin', 'patient', 'therapist', 'app');

CREATE TABLE person (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    tz          text NOT NULL DEFAULT 'UTC',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Who calls the API. A patient account acts for one person; admins for none.
CREATE TABLE account (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    role        account_role NOT NULL,
    name        text NOT NULL,
    person_id   uuid REFERENCES person(id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'patient') = (person_id IS NOT NULL))
);
CREATE UNIQUE INDEX account_one_patient_per_person ON account (person_id) WHERE role = 'patient';

-- Bearer tokens: only the SHA-256 of a 256-bit random secret is stored.
CREATE TABLE api_token (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,
    prefix       text NOT NULL,
    name         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- A device-and-app that wrote data (Apple Watch vs iPhone vs a strap).
CREATE TABLE source (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    key         text NOT NULL,
    name        text NOT NULL,
    kind        source_kind NOT NULL DEFAULT 'unknown',
    device      text,
    priority    smallint,          -- per-person override; NULL = by kind
    utc_offset_s integer,          -- last offset the format recorded, if any
    UNIQUE (person_id, key)
);

-- The ledger: one row per import attempt.
CREATE TABLE import (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id        uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    file_name        text NOT NULL,
    stored_path      text,
    sha256           text,
    size_bytes       bigint,
    connector        text,
    status           import_status NOT NULL DEFAULT 'queued',
    error            text,
    read             bigint NOT NULL DEFAULT 0,
    inserted         bigint NOT NULL DEFAULT 0,
    duplicates       bigint NOT NULL DEFAULT 0,
    rejected         bigint NOT NULL DEFAULT 0,
    rejected_reasons jsonb NOT NULL DEFAULT '{}',
    skipped          jsonb NOT NULL DEFAULT '{}',
    notes            jsonb NOT NULL DEFAULT '{}',
    bytes_read       bigint NOT NULL DEFAULT 0,
    start_hint       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
CREATE INDEX import_person_created ON import (person_id, created_at DESC);
CREATE INDEX import_sha256 ON import (person_id, sha256);

-- Every numeric sample. Narrow on purpose: wearable streams are irregular and
-- heterogeneous. No foreign keys: they would cost a lookup per row on the
-- hot insert path; person erasure deletes these rows explicitly.
CREATE TABLE observation (
    person_id  uuid NOT NULL,
    metric     metric NOT NULL,
    source_id  integer NOT NULL,
    ts         timestamptz NOT NULL,
    value      double precision NOT NULL,
    import_id  bigint,
    PRIMARY KEY (person_id, metric, source_id, ts)
);

CREATE TABLE sleep_episode (
    person_id  uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    source_id  integer NOT NULL REFERENCES source(id) ON DELETE CASCADE,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    stage      text NOT NULL CHECK (stage IN ('in_bed', 'asleep', 'asleep_core',
                                              'asleep_deep', 'asleep_rem', 'awake')),
    import_id  bigint,
    PRIMARY KEY (person_id, source_id, starts_at, stage),
    CHECK (ends_at >= starts_at)
);

-- Rest windows the device logged (Apple's mindful sessions).
CREATE TABLE rest_episode (
    person_id  uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    source_id  integer NOT NULL REFERENCES source(id) ON DELETE CASCADE,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    import_id  bigint,
    PRIMARY KEY (person_id, source_id, starts_at),
    CHECK (ends_at >= starts_at)
);

CREATE TABLE session (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id     uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    therapist_id  uuid REFERENCES account(id) ON DELETE SET NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    modality      text NOT NULL CHECK (modality IN ('swedish', 'deep_tissue', 'myofascial_release',
                      'lymphatic_drainage', 'sports', 'trigger_point', 'hot_stone', 'other')),
    pressure      text CHECK (pressure IN ('light', 'moderate', 'deep')),
    body_areas    text[] NOT NULL DEFAULT '{}',
    notes         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX session_person_start ON session (person_id, starts_at);

CREATE TABLE self_report (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    ts          timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('pain', 'stress', 'anxiety', 'headache', 'sleep_quality')),
    value       double precision NOT NULL CHECK (value BETWEEN 0 AND 10),
    session_id  bigint REFERENCES session(id) ON DELETE SET NULL,
    phase       text CHECK (phase IN ('before', 'after')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX self_report_person_ts ON self_report (person_id, ts);

CREATE TABLE lab_result (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    ts          timestamptz NOT NULL,
    analyte     text NOT NULL CHECK (analyte IN ('cortisol')),
    specimen    text CHECK (specimen IN ('saliva', 'serum')),
    value       double precision NOT NULL CHECK (value >= 0),
    unit        text NOT NULL,
    value_nmol_l double precision NOT NULL,
    session_id  bigint REFERENCES session(id) ON DELETE SET NULL,
    phase       text CHECK (phase IN ('before', 'after')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lab_result_person_ts ON lab_result (person_id, ts);
