-- Rest-control sessions and n-of-1 trial plans (docs/method.md, "n-of-1 trial planner").

-- A rest session is the comparison arm of a trial: the person lies still for the
-- same time in the same setting, without massage. It has no pressure.
ALTER TABLE session DROP CONSTRAINT session_modality_check;
ALTER TABLE session
    ADD CONSTRAINT session_modality_known CHECK (modality IN (
        'swedish', 'deep_tissue', 'myofascial_release', 'lymphatic_drainage', 'sports',
        'trigger_point', 'hot_stone', 'other', 'rest')),
    ADD CONSTRAINT session_rest_has_no_pressure CHECK (modality <> 'rest' OR pressure IS NULL);

-- A randomised schedule of massage and rest sessions, with the design it was made
-- from (so the same seed and start date give the same schedule again) and the power
-- stated when it was made.
CREATE TABLE trial_plan (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id        uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    seed             bigint NOT NULL,
    weeks            integer NOT NULL CHECK (weeks BETWEEN 1 AND 52),
    per_week         integer NOT NULL CHECK (per_week BETWEEN 1 AND 7),
    rest_share       double precision NOT NULL CHECK (rest_share > 0 AND rest_share < 1),
    first_day        date NOT NULL,
    weekdays         integer[] NOT NULL,
    time_of_day      time NOT NULL,
    duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 10 AND 360),
    tz               text NOT NULL,
    power            jsonb NOT NULL,
    UNIQUE (id, person_id)
);
CREATE INDEX trial_plan_person ON trial_plan (person_id, created_at, id);

CREATE TABLE trial_plan_session (
    plan_id    bigint NOT NULL,
    person_id  uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    seq        integer NOT NULL CHECK (seq >= 1),
    week       integer NOT NULL CHECK (week >= 1),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('massage', 'rest')),
    PRIMARY KEY (plan_id, seq),
    FOREIGN KEY (plan_id, person_id) REFERENCES trial_plan (id, person_id) ON DELETE CASCADE,
    CHECK (ends_at > starts_at)
);

SELECT vagus_protect_person_table('trial_plan');
SELECT vagus_protect_person_table('trial_plan_session');
