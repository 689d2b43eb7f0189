-- vagus: tiers=timescale
-- vagus: no-transaction
-- Hourly rollup as a continuous aggregate, refreshed by TimescaleDB's own policy.
-- Continuous aggregates cannot be created inside a transaction block.
CREATE MATERIALIZED VIEW IF NOT EXISTS observation_hourly
WITH (timescaledb.continuous) AS
SELECT person_id, metric, source_id,
       time_bucket(INTERVAL '1 hour', ts) AS bucket,
       count(*) AS n, avg(value) AS mean, min(value) AS min, max(value) AS max
FROM observation
GROUP BY person_id, metric, source_id, time_bucket(INTERVAL '1 hour', ts)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('observation_hourly',
    start_offset => INTERVAL '90 days',
    end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '1 hour',
    if_not_exists => TRUE);
