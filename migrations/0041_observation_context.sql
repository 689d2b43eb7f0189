-- What the device said about the circumstances of a sample, where it says anything:
-- for heart rate, Apple's HKMetadataKeyHeartRateMotionContext (0 not set, 1 sedentary,
-- 2 active). NULL when the format has no such field. No constraint: TimescaleDB
-- cannot add a column with constraints to a compressed hypertable.
ALTER TABLE observation ADD COLUMN context smallint;
COMMENT ON COLUMN observation.context IS
    'motion context of a heart-rate sample: 0 not set, 1 sedentary, 2 active; NULL unknown';
