-- Cloud sync (issue 15): apps may subscribe to `connection.needs_reauth`, sent when a
-- vendor stops honouring a person's connected account (service/webhooks/service.py EVENTS).
ALTER TABLE webhook_subscription DROP CONSTRAINT webhook_subscription_events_check;
ALTER TABLE webhook_subscription ADD CONSTRAINT webhook_subscription_events_check
    CHECK (events <@ ARRAY['import.completed', 'import.failed', 'session.response.ready',
                           'evidence.updated', 'connection.needs_reauth']::text[]
           AND cardinality(events) > 0);
