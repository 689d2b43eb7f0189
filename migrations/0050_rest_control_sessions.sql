-- Rest-control sessions (issue 11): the comparison arm of an n-of-1 trial, where the
-- person lies still for the same time and in the same setting without massage. They
-- are sessions with modality 'rest' (pressure stays NULL); the evidence compares
-- massage sessions with them. Idempotent: the care vocabulary may add 'rest' too.
ALTER TABLE session DROP CONSTRAINT IF EXISTS session_modality_check;
ALTER TABLE session ADD CONSTRAINT session_modality_check
    CHECK (modality IN ('swedish', 'deep_tissue', 'myofascial_release', 'lymphatic_drainage',
                        'sports', 'trigger_point', 'hot_stone', 'other', 'rest'));
