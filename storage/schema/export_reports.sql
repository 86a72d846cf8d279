-- export_reports.sql
-- The decided reports an exporter may read, in decision order (decided_at, id), as the
-- files, feeds, OGC API and webhooks publish them: no reporter, no chat, no analyst,
-- and the report's text only when with_text. LANGUAGE sql and STABLE so that PostgreSQL
-- inlines it into the caller's query: a cursor over it streams rows instead of
-- materialising the set. acct NULL: every queue (the command line); decimals NULL:
-- exact points; lim NULL: no limit; p_id: that report only. Times are the columns
-- themselves (the caller formats them: to_char costs more than the rest of a row), and
-- the media counts are read a batch at a time (store_export.c): a subquery per row
-- doubled the cost of a million-row export.
CREATE OR REPLACE FUNCTION export_reports(acct text, p_status text, p_category text,
    p_since timestamptz, p_until timestamptz, after_us bigint, after_id bigint,
    w float8, s float8, e float8, n float8, decimals integer, with_text boolean, lim bigint,
    p_id bigint)
RETURNS TABLE (id bigint, ref text, category text, status text, observed_at timestamptz,
    received_at timestamptz, decided_at timestamptz, point_source text, accuracy_m float8,
    corroborations integer, incident_id bigint, lon text, lat text, body text)
LANGUAGE sql STABLE AS $$
    SELECT r.id, r.public_ref, r.category, r.status, r.observed_at, r.received_at,
        r.decided_at, r.point_source, r.accuracy_m, r.corroborations, r.incident_id,
        CASE WHEN decimals IS NULL THEN ST_X(r.point::geometry)::text
             ELSE round(ST_X(r.point::geometry)::numeric, decimals)::text END,
        CASE WHEN decimals IS NULL THEN ST_Y(r.point::geometry)::text
             ELSE round(ST_Y(r.point::geometry)::numeric, decimals)::text END,
        CASE WHEN with_text THEN r.text END
    FROM reports r
    WHERE r.decided_at IS NOT NULL AND r.point IS NOT NULL
      AND r.status = COALESCE(p_status, 'confirmed')
      AND (acct IS NULL OR r.queue = ANY (ARRAY(SELECT unnest(web_queues_for(acct)))))
      AND (p_id IS NULL OR r.id = p_id)
      AND (p_category IS NULL OR r.category = p_category)
      AND (p_since IS NULL OR r.received_at >= p_since)
      AND (p_until IS NULL OR r.received_at < p_until
           OR (p_since = p_until AND r.received_at = p_since))
      AND (after_us IS NULL OR (r.decided_at, r.id) >
           (timestamptz 'epoch' + after_us * interval '1 microsecond', after_id))
      AND (w IS NULL OR r.point::geometry && ST_MakeEnvelope(w, s, e, n, 4326))
    ORDER BY r.decided_at, r.id
    LIMIT lim
$$;
