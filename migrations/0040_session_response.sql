-- Computed session responses, kept until the data they depend on changes.
-- data_version fingerprints the person's imports and sessions at compute time;
-- a read whose fingerprint differs (or whose algorithm version is newer)
-- recomputes and replaces the row.
CREATE TABLE session_response (
    session_id        bigint PRIMARY KEY REFERENCES session(id) ON DELETE CASCADE,
    person_id         uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    algorithm_version text NOT NULL,
    data_version      text NOT NULL,
    computed_at       timestamptz NOT NULL DEFAULT now(),
    body              jsonb NOT NULL
);
CREATE INDEX session_response_person ON session_response (person_id);
SELECT vagus_protect_person_table('session_response');
