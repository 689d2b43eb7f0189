-- vagus: tiers=postgres
-- Plain PostgreSQL: one table; a BRIN index on ts serves time-range scans
-- across people cheaply (rows arrive roughly in time order).
CREATE INDEX observation_ts_brin ON observation USING brin (ts);
