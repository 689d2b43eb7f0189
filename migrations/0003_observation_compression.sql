-- vagus: tiers=timescale
-- Compression (Timescale licence only). Segment by person and metric, the shape
-- of every hot query; order by time. Chunks are compressed after 30 days, a
-- window longer than typical late uploads (a phone that syncs a month late
-- still lands in uncompressed chunks; later inserts into compressed chunks
-- work too, only slower).
ALTER TABLE observation SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'person_id, metric',
    timescaledb.compress_orderby = 'source_id, ts'
);
SELECT add_compression_policy('observation', compress_after => INTERVAL '30 days', if_not_exists => TRUE);
