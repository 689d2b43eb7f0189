-- vagus: tiers=timescale,apache
-- TimescaleDB: partition observation into 7-day chunks (TimescaleDB 2.13+ by_range API).
SELECT create_hypertable('observation', by_range('ts', INTERVAL '7 days'), if_not_exists => TRUE);
