-- Access control in the database itself (docs/security.md): the service's
-- non-owner role, consent grants, the audit log, and row-level security on
-- every person-scoped table, keyed on per-transaction settings:
--
--   vagus.account_id  the authenticated account (patient, therapist, app, admin)
--   vagus.person_id   acting for exactly one person (ingest of that person's file)
--   vagus.role        'system': deliberate bypass for operator and job contexts
--
-- With none of them set a service connection sees no person's rows at all.
-- Migrations run as the owner, which row-level security does not restrict.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vagus_service') THEN
        CREATE ROLE vagus_service NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- another database on this server created it at the same moment
END $$;

-- The connecting user switches to the role with SET ROLE. Superusers may
-- anyway; an ordinary owner needs membership.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT vagus_service TO %I', current_user);
    END IF;
END $$;

-- Consent: a patient grants a therapist or app account scopes on their data.
-- A therapist's request is a 'pending' row until the patient approves it.
CREATE TABLE consent_grant (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id    uuid NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    grantee_id   uuid NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    scopes       text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY[
                     'read:observations', 'read:evidence', 'read:sessions',
                     'write:sessions', 'write:imports']::text[]),
    status       text NOT NULL CHECK (status IN ('pending', 'active', 'revoked', 'declined')),
    note         text CHECK (length(note) <= 2000),
    requested_by uuid REFERENCES account(id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    approved_at  timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz
);
-- At most one open (pending or active) grant per person and grantee.
CREATE UNIQUE INDEX consent_grant_open ON consent_grant (person_id, grantee_id)
    WHERE status IN ('pending', 'active');
CREATE INDEX consent_grant_grantee ON consent_grant (grantee_id) WHERE status = 'active';

-- Who read or exported whose data, when and from where. No health data, no
-- foreign keys: rows outlive the person (an erasure leaves its tombstone here).
CREATE TABLE audit_event (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_account_id uuid,
    actor_role       text,
    person_id        uuid,
    action           text NOT NULL,
    resource         text,
    client_ip        text,
    user_agent       text
);
CREATE INDEX audit_event_person ON audit_event (person_id, id DESC);

-- Privileges: everything ordinary, except that the ledger of migrations is
-- read-only, the audit log is append-only and the hourly rollup (a
-- materialised view, which row-level security cannot cover) is reached only
-- through observation_hourly_visible below.
GRANT USAGE ON SCHEMA public TO vagus_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO vagus_service;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO vagus_service;
REVOKE ALL ON schema_migrations, observation_hourly FROM vagus_service;
GRANT SELECT ON schema_migrations TO vagus_service;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM vagus_service;
-- Tables later migrations create get the same ordinary privileges (they still
-- need vagus_protect_person_table when they hold a person's rows).
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO vagus_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO vagus_service;

-- The acting principal. SECURITY DEFINER: they read account and consent_grant
-- as the owner, beneath the policies they feed. Policies call them through a
-- scalar subquery, so each runs once per statement, not once per row.
CREATE FUNCTION vagus_account_id() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('vagus.account_id', true), '')::uuid
$$;

CREATE FUNCTION vagus_rls_bypass() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(current_setting('vagus.role', true), '') = 'system'
        OR EXISTS (SELECT FROM account WHERE id = vagus_account_id() AND role = 'admin')
$$;

-- The person a patient account is (NULL for other accounts).
CREATE FUNCTION vagus_own_person_id() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT person_id FROM account WHERE id = vagus_account_id() AND role = 'patient'
$$;

-- Every person the acting principal may see: its own person, persons that
-- granted it consent (active, unexpired), or the one person being acted for.
CREATE FUNCTION vagus_person_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(array_agg(DISTINCT p) FILTER (WHERE p IS NOT NULL), '{}')
    FROM (
        SELECT nullif(current_setting('vagus.person_id', true), '')::uuid AS p
        UNION ALL
        SELECT vagus_own_person_id()
        UNION ALL
        SELECT person_id FROM consent_grant
        WHERE grantee_id = vagus_account_id() AND status = 'active'
          AND (expires_at IS NULL OR expires_at > now())
    ) visible
$$;

-- Enable row-level security on a person-scoped table with the standard
-- policy: a row is visible and writable when its person is one the acting
-- principal may see, or in a system/admin context. Later migrations call it
-- for every new table that holds a person's rows.
CREATE FUNCTION vagus_protect_person_table(tbl regclass, person_column name DEFAULT 'person_id')
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    rule text := format(
        '(SELECT vagus_rls_bypass()) OR %I = ANY ((SELECT vagus_person_ids())::uuid[])', person_column);
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('DROP POLICY IF EXISTS vagus_person_scope ON %s', tbl);
    EXECUTE format('CREATE POLICY vagus_person_scope ON %s USING (%s) WITH CHECK (%s)',
                   tbl, rule, rule);
END $$;
REVOKE EXECUTE ON FUNCTION vagus_protect_person_table(regclass, name) FROM PUBLIC;

SELECT vagus_protect_person_table('person', 'id');
SELECT vagus_protect_person_table(t)
FROM unnest(ARRAY['source', 'import', 'sleep_episode', 'rest_episode',
                  'session', 'self_report', 'lab_result']::regclass[]) AS t;

-- observation too, except where TimescaleDB compresses it: TimescaleDB refuses
-- row-level security on a hypertable with compression enabled (and continuous
-- aggregates over one), timescale/timescaledb#6827 and #6832. On that tier the
-- samples rely on the application's checks alone (docs/security.md says so).
DO $$
DECLARE
    compressed boolean := false;
BEGIN
    IF EXISTS (SELECT FROM pg_extension WHERE extname = 'timescaledb') THEN
        EXECUTE $q$SELECT coalesce(bool_or(compression_enabled), false)
                   FROM timescaledb_information.hypertables
                   WHERE hypertable_name = 'observation'$q$ INTO compressed;
    END IF;
    IF NOT compressed THEN
        PERFORM vagus_protect_person_table('observation');
    END IF;
END $$;

-- Accounts: one's own, the patient accounts of visible persons, and the
-- (non-health) therapist and app accounts a patient picks grantees from.
ALTER TABLE account ENABLE ROW LEVEL SECURITY;
CREATE POLICY vagus_account_scope ON account
    USING ((SELECT vagus_rls_bypass()) OR id = (SELECT vagus_account_id())
           OR role IN ('therapist', 'app') OR person_id = ANY ((SELECT vagus_person_ids())::uuid[]))
    WITH CHECK ((SELECT vagus_rls_bypass()));

-- Tokens: only one's own (authentication itself runs in the system context).
ALTER TABLE api_token ENABLE ROW LEVEL SECURITY;
CREATE POLICY vagus_token_scope ON api_token
    USING ((SELECT vagus_rls_bypass()) OR account_id = (SELECT vagus_account_id()))
    WITH CHECK ((SELECT vagus_rls_bypass()) OR account_id = (SELECT vagus_account_id()));

-- Grants: the patient manages them; a grantee sees its own and may only file
-- pending requests; another grantee of the same person sees nothing of them.
ALTER TABLE consent_grant ENABLE ROW LEVEL SECURITY;
CREATE POLICY vagus_grant_read ON consent_grant FOR SELECT
    USING ((SELECT vagus_rls_bypass()) OR person_id = (SELECT vagus_own_person_id())
           OR grantee_id = (SELECT vagus_account_id()));
CREATE POLICY vagus_grant_insert ON consent_grant FOR INSERT
    WITH CHECK ((SELECT vagus_rls_bypass()) OR person_id = (SELECT vagus_own_person_id())
                OR (grantee_id = (SELECT vagus_account_id()) AND status = 'pending'));
CREATE POLICY vagus_grant_update ON consent_grant FOR UPDATE
    USING ((SELECT vagus_rls_bypass()) OR person_id = (SELECT vagus_own_person_id()))
    WITH CHECK ((SELECT vagus_rls_bypass()) OR person_id = (SELECT vagus_own_person_id()));
CREATE POLICY vagus_grant_delete ON consent_grant FOR DELETE
    USING ((SELECT vagus_rls_bypass()) OR person_id = (SELECT vagus_own_person_id()));

-- Audit: anyone in the service appends; only the person (or admin/system) reads.
ALTER TABLE audit_event ENABLE ROW LEVEL SECURITY;
CREATE POLICY vagus_audit_append ON audit_event FOR INSERT WITH CHECK (true);
CREATE POLICY vagus_audit_read ON audit_event FOR SELECT
    USING ((SELECT vagus_rls_bypass()) OR person_id = (SELECT vagus_own_person_id()));

-- The hourly rollup for the service, filtered like the table it summarises.
CREATE VIEW observation_hourly_visible WITH (security_barrier) AS
SELECT * FROM observation_hourly
WHERE (SELECT vagus_rls_bypass()) OR person_id = ANY ((SELECT vagus_person_ids())::uuid[]);
GRANT SELECT ON observation_hourly_visible TO vagus_service;
