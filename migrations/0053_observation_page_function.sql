-- One page of a person's samples in key order, for the API's paging
-- (service.repositories.observations.page).
--
-- Through the security-barrier view (0052) a condition on metric stays above the
-- view's filter (PostgreSQL's enum equality is not leakproof), and the planner may
-- not use the column's statistics there; with a metric and a range it then
-- estimates a handful of rows and sorts the whole range instead of walking the
-- primary key and stopping after one page (docs/benchmarks.md has the figures).
-- This function runs the page query as the owner, where metric is an index
-- condition (and on TimescaleDB a segment-by filter on compressed chunks), after
-- the same visibility rule as the view: a person the connection may not see has
-- no samples here either.
--
-- Dynamic SQL on purpose: each call is planned with its own values, so absent
-- conditions cost nothing and present ones reach the index.
CREATE FUNCTION vagus_observation_page(
    person uuid, metrics metric[], range_start timestamptz, range_end timestamptz,
    after_metric metric, after_source integer, after_ts timestamptz, page_rows integer)
RETURNS SETOF observation_data
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    query text := 'SELECT * FROM public.observation_data WHERE person_id = $1';
BEGIN
    IF NOT coalesce(vagus_rls_bypass() OR person = ANY (vagus_person_ids()), false) THEN
        RETURN;
    END IF;
    IF metrics IS NOT NULL THEN
        query := query || ' AND metric = ANY ($2)';
    END IF;
    IF range_start IS NOT NULL THEN
        query := query || ' AND ts >= $3';
    END IF;
    IF range_end IS NOT NULL THEN
        query := query || ' AND ts < $4';
    END IF;
    IF after_metric IS NOT NULL THEN
        query := query || ' AND (metric, source_id, ts) > ($5, $6, $7)';
    END IF;
    RETURN QUERY EXECUTE query || ' ORDER BY metric, source_id, ts LIMIT $8'
        USING person, metrics, range_start, range_end, after_metric, after_source, after_ts,
              page_rows;
END $$;
REVOKE EXECUTE ON FUNCTION vagus_observation_page(uuid, metric[], timestamptz, timestamptz,
    metric, integer, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vagus_observation_page(uuid, metric[], timestamptz, timestamptz,
    metric, integer, timestamptz, integer) TO vagus_service;
