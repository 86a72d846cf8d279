-- 0024_incidents.sql - what incidents need: the incident's summary columns, the fused
-- position of a moving target, the configuration of the join, and the categories that
-- may share an incident.
--
-- Why: during an attack hundreds of people report one event; analysts must see one
-- incident with how many independent people saw it, not hundreds of rows. A report joins
-- an incident in the transaction that stores it (incident_join), so the incident row
-- carries what the queue and the console read without aggregating members each time
-- (categories, members, distinct counted reporters, time span, centroid), and the
-- estimate fused from the members' bearings (point, uncertainty, how many lines).
-- The join's distance and window are the corroboration weights' (priority_weights:
-- corroboration.radius_m, .window_s, .same_category); its accuracy cap and text weighting
-- and the fusion's parameters are data an operator may tune without a release
-- (incident_params); which categories describe one event is a table
-- (incident_categories, with the join distance of the categories seen from afar) rather
-- than code, like the priority weights. pg_trgm (text
-- similarity) already comes with the baseline; the statement below is a no-op there and
-- documents the dependency.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE incidents
    ADD COLUMN categories text[] DEFAULT '{}'::text[] NOT NULL,
    ADD COLUMN n_reports integer DEFAULT 0 NOT NULL,
    ADD COLUMN updated_at timestamp with time zone DEFAULT now() NOT NULL,
    ADD COLUMN merged_into bigint,
    ADD COLUMN fused geography(Point,4326),
    ADD COLUMN fused_uncertainty_m double precision,
    ADD COLUMN fused_lines integer DEFAULT 0 NOT NULL,
    ADD CONSTRAINT incidents_merged_into_fkey FOREIGN KEY (merged_into) REFERENCES incidents(id)
        ON DELETE SET NULL;

-- an incident's latest members first (the join compares the text with them), and whether
-- a reporter counts in an incident already (a new member raises the count or not)
DROP INDEX reports_incident;
CREATE INDEX reports_incident ON reports USING btree (incident_id, id) WHERE incident_id IS NOT NULL;
CREATE INDEX reports_incident_reporter ON reports USING btree (incident_id, reporter)
    WHERE incident_id IS NOT NULL;

CREATE TABLE incident_params (
    key text NOT NULL,
    value double precision NOT NULL,
    doc text NOT NULL,
    CONSTRAINT incident_params_pkey PRIMARY KEY (key)
);

INSERT INTO incident_params (key, value, doc) VALUES
    ('accuracy_cap_m', 2000, 'a point''s accuracy widens the distance by at most this much'),
    ('text_neutral', 0.3, 'trigram similarity (0..1) to the members that neither helps nor hurts'),
    ('text_gain', 1.0, 'distance factor per unit of similarity above or below the neutral'),
    ('text_factor_min', 0.6, 'the text never shrinks the distance below this factor'),
    ('text_factor_max', 1.5, 'the text never stretches the distance beyond this factor'),
    ('text_sample', 20, 'the text is compared with this many of the latest members'),
    ('bearing_sigma_deg', 5, 'assumed error of a reported bearing (degrees, one sigma)'),
    ('fuse_min_angle_deg', 10, 'bearing lines closer to parallel than this give no position'),
    ('fuse_max_range_m', 50000, 'a fused position farther than this from an observer is refused'),
    ('photo_hamming', 10, 'photos whose perceptual hashes differ by at most this many bits cluster');

CREATE TABLE incident_categories (
    category text NOT NULL,
    moving boolean DEFAULT false NOT NULL,
    compatible text[] DEFAULT '{}'::text[] NOT NULL,
    radius_m double precision,
    CONSTRAINT incident_categories_pkey PRIMARY KEY (category)
);

-- radius_m: a category's own join distance (NULL: corroboration.radius_m); a drone or an
-- aircraft is heard and seen from kilometres away, so its reporters stand far apart
INSERT INTO incident_categories (category, moving, compatible, radius_m) VALUES
    ('aircraft', true, '{drones}', 20000),
    ('drones', true, '{aircraft}', 10000),
    ('troops', true, '{equipment}', NULL),
    ('equipment', false, '{troops}', NULL),
    ('shelling', false, '{damage}', NULL),
    ('damage', false, '{shelling}', NULL),
    ('suspicious', false, '{}', NULL),
    ('collaborators', false, '{}', NULL),
    ('other', false, '{}', NULL);

-- corroboration is the incident's now (storage/schema/priority_corroborators.sql); the
-- neighbour query it replaced has no caller left
DROP FUNCTION IF EXISTS priority_neighbours(jsonb, bigint, text, text, geography,
                                            timestamp with time zone);
