-- 0030_tile_audit.sql - the audit of vector tiles: one row per account, zoom and minute.
--
-- Why: every export is audited (who, which filter, how many rows), but a map fetches
-- dozens of tiles per pan; a row of audit_log per tile would bury the other entries and
-- cost a write per tile. audit_log is append-only (its rows are never updated), so the
-- tiles' counts are summed here instead, one upsert per tile on a row keyed by
-- (account, zoom, minute): who looked at which zoom when, how many tiles and how many
-- features they drew.
CREATE TABLE tile_audit (
    account text NOT NULL,
    zoom smallint NOT NULL,
    minute timestamp with time zone NOT NULL,
    tiles bigint DEFAULT 0 NOT NULL,
    features bigint DEFAULT 0 NOT NULL,
    CONSTRAINT tile_audit_pkey PRIMARY KEY (account, zoom, minute)
);

CREATE INDEX tile_audit_minute ON tile_audit USING btree (minute);
