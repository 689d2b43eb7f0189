-- Sessions, self-reports and lab results: the rules the API documents, held
-- by the database too (see docs/api.md).

-- Body areas come from a small fixed vocabulary; a session lasts at most 6 hours.
ALTER TABLE session
    ADD CONSTRAINT session_body_areas_known CHECK (body_areas <@ ARRAY[
        'neck', 'shoulders', 'upper_back', 'lower_back', 'arms', 'hands', 'glutes', 'legs',
        'feet', 'head', 'face', 'abdomen', 'chest', 'full_body']::text[]),
    ADD CONSTRAINT session_duration_plausible CHECK (ends_at - starts_at <= interval '6 hours'),
    ADD CONSTRAINT session_notes_length CHECK (length(notes) <= 10000),
    ADD CONSTRAINT session_id_person UNIQUE (id, person_id);

-- A report or sample attached to a session belongs to that session's person.
-- Deleting the session keeps the report (it is still a dated measurement) and
-- only clears the link; the repository clears the phase with it.
ALTER TABLE self_report
    ADD CONSTRAINT self_report_session_same_person FOREIGN KEY (session_id, person_id)
        REFERENCES session (id, person_id) ON DELETE SET NULL (session_id);
CREATE INDEX self_report_session ON self_report (session_id) WHERE session_id IS NOT NULL;

-- Units are stored in their canonical spelling; value_nmol_l is what analyses compare.
ALTER TABLE lab_result
    ADD CONSTRAINT lab_result_unit_known CHECK (unit IN ('nmol/L', 'ug/dL')),
    ADD CONSTRAINT lab_result_session_same_person FOREIGN KEY (session_id, person_id)
        REFERENCES session (id, person_id) ON DELETE SET NULL (session_id);
CREATE INDEX lab_result_session ON lab_result (session_id) WHERE session_id IS NOT NULL;
