-- Jobs that carry a person's data name the person, so that erasure deletes them and the
-- person's export includes them (privacy finds person tables by their person_id column).
-- No foreign key: a job may outlive nothing of the person, and erasure deletes its rows
-- in the same transaction as the person's.
ALTER TABLE job ADD COLUMN person_id uuid;

-- Existing rows: the person named in the payload (nightly and recompute jobs, webhook
-- events), or the person of the import an import job runs.
UPDATE job SET person_id = coalesce(
    CASE WHEN payload->>'person_id' ~ '^[0-9a-fA-F-]{36}$' THEN (payload->>'person_id')::uuid END,
    CASE WHEN payload->'event'->>'person_id' ~ '^[0-9a-fA-F-]{36}$'
         THEN (payload->'event'->>'person_id')::uuid END,
    (SELECT i.person_id FROM import i
      WHERE kind = 'import' AND payload->>'import_id' ~ '^[0-9]+$'
        AND i.id = (payload->>'import_id')::bigint));

CREATE INDEX job_person ON job (person_id) WHERE person_id IS NOT NULL;

-- A job naming a person is that person's row (row-level security, as every person table);
-- a job naming nobody (sweeps, maintenance) may be queued and seen from any context.
ALTER TABLE job ENABLE ROW LEVEL SECURITY;
CREATE POLICY vagus_job_scope ON job
    USING ((SELECT vagus_rls_bypass()) OR person_id IS NULL
           OR person_id = ANY ((SELECT vagus_person_ids())::uuid[]))
    WITH CHECK ((SELECT vagus_rls_bypass()) OR person_id IS NULL
                OR person_id = ANY ((SELECT vagus_person_ids())::uuid[]));
