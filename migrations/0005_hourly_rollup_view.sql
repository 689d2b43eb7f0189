-- vagus: tiers=apache,postgres
-- Hourly rollup as a plain materialised view (no continuous aggregates here);
-- the job scheduler refreshes it. The unique index allows REFRESH ... CONCURRENTLY.
CREATE MATERIALIZED VIEW observation_hourly AS
SELECT person_id, metric, source_id,
       date_bin(INTERVAL '1 hour', ts, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS bucket,
       count(*) AS n, avg(value) AS mean, min(value) AS min, max(value) AS max
FROM observation
GROUP BY 1, 2, 3, 4
WITH NO DATA;
CREATE UNIQUE INDEX observation_hourly_key ON observation_hourly (person_id, metric, source_id, bucket);
