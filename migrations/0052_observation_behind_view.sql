-- One protection for samples on every tier (docs/security.md). Row-level security
-- cannot cover observation where TimescaleDB compresses it (0010 left it off
-- there), so instead:
--
--   observation_data  the samples themselves; the service role has no privilege
--                     on it at all (nor on TimescaleDB's chunks of it);
--   observation       a security-barrier view over it that admits only the
--                     persons the connection acts for, keyed on the same vagus.*
--                     settings and functions as the policies. The service role
--                     may SELECT and INSERT through it; the check option refuses
--                     a row of any other person. No UPDATE, no DELETE;
--   vagus_erase_observations(person)  the only way the service deletes samples.
--
-- Existing reads keep the name observation. On TimescaleDB the rename keeps the
-- hypertable, its compression settings and policy, and the continuous aggregate:
-- TimescaleDB refers to hypertables by numeric id and views by OID, so nothing
-- refers to the old name (timescale/docs#1982). The hourly rollup (materialised
-- view or continuous aggregate) follows the table by OID as well.
--
-- A later change to the samples' columns alters observation_data and recreates
-- this view in the same migration (a view does not pick up new columns).

ALTER TABLE observation RENAME TO observation_data;
COMMENT ON TABLE observation_data IS
    'samples; the service reads and writes them through the view observation only';

-- The row-level security 0010 added where the table is not compressed: the view
-- replaces it on every tier. Only touched where present (TimescaleDB refuses most
-- ALTER TABLE forms on a hypertable with compression).
DO $$
BEGIN
    IF (SELECT relrowsecurity FROM pg_class WHERE oid = 'observation_data'::regclass) THEN
        DROP POLICY IF EXISTS vagus_person_scope ON observation_data;
        ALTER TABLE observation_data DISABLE ROW LEVEL SECURITY;
    END IF;
END $$;

REVOKE ALL ON observation_data FROM PUBLIC, vagus_service;

-- TimescaleDB only: the hypertable survived the rename, and no relation in its
-- own schemas that holds a person's rows (chunks, compressed chunks, the
-- continuous aggregate's materialisation hypertable and internal views) keeps a
-- privilege for the service role or PUBLIC. New chunks copy the hypertable's
-- privileges (now none for the service), whatever grant propagation did before.
DO $$
DECLARE
    renamed boolean;
    rel regclass;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'timescaledb') THEN
        RETURN;
    END IF;
    EXECUTE $q$SELECT EXISTS (SELECT FROM timescaledb_information.hypertables
               WHERE hypertable_schema = 'public' AND hypertable_name = 'observation_data')$q$
        INTO renamed;
    IF NOT renamed THEN
        RAISE EXCEPTION 'observation_data is not a hypertable after the rename';
    END IF;
    FOR rel IN
        SELECT c.oid::regclass FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('public', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid
                      AND a.attname = 'person_id' AND NOT a.attisdropped)
          AND (has_table_privilege('vagus_service', c.oid,
                   'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
               OR has_table_privilege('public', c.oid,
                   'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'))
    LOOP
        EXECUTE format('REVOKE ALL ON %s FROM PUBLIC, vagus_service', rel);
    END LOOP;
END $$;

-- security_barrier: the filter runs before any condition of the caller's that
-- could leak rows (a function the caller wrote); leakproof conditions, such as
-- equality on person_id and ranges on ts, still reach the index and, on
-- TimescaleDB, chunk exclusion.
CREATE VIEW observation WITH (security_barrier) AS
SELECT person_id, metric, source_id, ts, value, import_id, context
FROM observation_data
WHERE (SELECT vagus_rls_bypass()) OR person_id = ANY ((SELECT vagus_person_ids())::uuid[])
WITH CASCADED CHECK OPTION;
COMMENT ON VIEW observation IS
    'the samples of the persons the connection acts for (vagus.* settings); insertable';

-- Default privileges (0010) gave the new view SELECT, INSERT, UPDATE, DELETE.
REVOKE ALL ON observation FROM PUBLIC, vagus_service;
GRANT SELECT, INSERT ON observation TO vagus_service;

-- Erasure: every sample of one person, when the connection acts for exactly that
-- person (rls.act_for_person), is that person's patient account, or is the
-- system/admin context. A therapist's grant does not reach here.
CREATE FUNCTION vagus_erase_observations(person uuid) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    erased bigint;
BEGIN
    -- coalesce: with no acting person the comparisons are NULL, which must refuse.
    IF NOT coalesce(vagus_rls_bypass()
                    OR person = nullif(current_setting('vagus.person_id', true), '')::uuid
                    OR person = vagus_own_person_id(), false) THEN
        RAISE EXCEPTION 'not acting for person %: samples not erased', person
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM public.observation_data WHERE person_id = person;
    GET DIAGNOSTICS erased = ROW_COUNT;
    RETURN erased;
END $$;
REVOKE EXECUTE ON FUNCTION vagus_erase_observations(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vagus_erase_observations(uuid) TO vagus_service;

-- The rollup's filtered view got the default write privileges too (0010); it is
-- read-only (a view over a materialised view or continuous aggregate), say so.
REVOKE ALL ON observation_hourly_visible FROM PUBLIC, vagus_service;
GRANT SELECT ON observation_hourly_visible TO vagus_service;
