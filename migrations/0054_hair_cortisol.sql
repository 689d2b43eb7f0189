-- Hair cortisol: a specimen whose concentration is a mass fraction (pg/mg), reflecting
-- months of secretion. It has no nmol/L value and is never paired around a session
-- (service/evidence/person.py); saliva and serum stay in nmol/L as before.
ALTER TABLE lab_result
    DROP CONSTRAINT lab_result_specimen_check,
    ADD CONSTRAINT lab_result_specimen_check CHECK (specimen IN ('saliva', 'serum', 'hair')),
    DROP CONSTRAINT lab_result_unit_known,
    ADD CONSTRAINT lab_result_unit_known CHECK (unit IN ('nmol/L', 'ug/dL', 'pg/mg')),
    ALTER COLUMN value_nmol_l DROP NOT NULL,
    -- pg/mg belongs to hair and only hair; a molar concentration always has its nmol/L value.
    ADD CONSTRAINT lab_result_hair_in_pg_per_mg
        CHECK ((unit = 'pg/mg') = (specimen IS NOT DISTINCT FROM 'hair')),
    ADD CONSTRAINT lab_result_molar_has_nmol_l
        CHECK (unit = 'pg/mg' OR value_nmol_l IS NOT NULL);
