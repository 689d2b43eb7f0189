-- Row-level security for the job tables that name a person (0020, 0021 came before the
-- security migration's helper was used everywhere).
SELECT vagus_protect_person_table('recompute_pending');

-- A subscription belongs to the app account that made it; its person_id may be NULL
-- (every person the account may see), so the policy keys on the owner instead.
ALTER TABLE webhook_subscription ENABLE ROW LEVEL SECURITY;
CREATE POLICY vagus_subscription_owner ON webhook_subscription
    USING ((SELECT vagus_rls_bypass()) OR account_id = (SELECT vagus_account_id()))
    WITH CHECK ((SELECT vagus_rls_bypass()) OR account_id = (SELECT vagus_account_id()));
